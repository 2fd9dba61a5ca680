from threading import Thread, Lock

num = 3
lock = Lock()
def buy(i):
    global num
    with lock:
        if num > 0:
            num -= 1
            print(f'子线程{i}抢购成功')
        else:
            print(f'子线程{i}抢购失败')

if __name__ == '__main__':
    for i in range(10):
        t = Thread(target=buy, args=(i,))
        t.start()

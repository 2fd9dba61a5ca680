from threading import Thread, Lock

num = 0
lock = Lock()
def inc(total):
    global num
    while total:
        num += 1
        total -= 1

if __name__ == '__main__':
    ts = []
    for i in range(5):
        t = Thread(target=inc, args=(100000,))
        t.start()
        ts.append(t)

    [t.join() for t in ts]
    print(f'num 值为：{num}')

import threading

num = 0

def producer():
    global num
    print(f"生产前数量 : {num}")
    for i in range(3):
        num += 1
    print(f"生产后数量 : {num}")
def consumer():
    global num
    print(f"消费前数量 : {num}")
    for i in range(num):
        num -= 1
    print(f"消费后数量 : {num}")

if __name__ == '__main__':
    t1 = threading.Thread(target=producer)
    t1.start()
    t1.join()
    t2 = threading.Thread(target=consumer)
    t2.start()
# 输出 =>
# 生产前数量 : 0
# 生产后数量 : 3
# 消费前数量 : 3
# 消费后数量 : 0

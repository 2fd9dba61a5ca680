import time
from threading import Thread

def foo(num):
    time.sleep(1)
    print(f'子线程{num}执行')

if __name__ == '__main__':
    print(f'主线程开始')
    t = Thread(target=foo, args=(1,))
    t.start()
    print(f'子线程 1 阻塞')
    t.join() # 阻塞主线程
    print(f'子线程 1 是否存活: {t.is_alive()}')
    t2 = Thread(target=foo, args=(2,))
    t2.daemon = True # 设置为守护线程
    t2.start()
    print(f'主线程结束')
# 输出 =>
# 主线程开始
# 子线程 1 阻塞
# 子线程 1 执行
# 子线程 1 是否存活: False
# 主线程结束

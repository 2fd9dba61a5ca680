from threading import Thread

def foo(name):
    print(f'线程{name}')

if __name__ == '__main__':
    for i in range(5):
        t = Thread(target=foo, args=(i,))
        t.start()

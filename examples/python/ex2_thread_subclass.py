from threading import Thread

class Foo(Thread):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def run(self):
        print(f'线程{self.name}')

if __name__ == '__main__':
    ts = []
    for i in range(5):
        t = Foo(i)
        t.start()
        ts.append(t)

import time
from threading import Thread

class Foo(Thread):
    def __init__(self, name):
        super().__init__()
        self.name = name
        self.is_stop = False

    def run(self):
        while not self.is_stop:
            print(f'线程{self.name}')
            time.sleep(1)

    def stop(self):
        self.is_stop = True

if __name__ == '__main__':
    t = Foo(1)
    t.start()
    t.stop()

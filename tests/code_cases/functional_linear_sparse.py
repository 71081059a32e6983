import numpy as np
from keras.models import Model
from keras.layers import Input, Dense, Flatten
from keras.datasets import mnist
from keras import optimizers
(x_train, y_train), (x_test, y_test) = mnist.load_data()
inp = Input(shape=(28, 28))
h = Flatten()(inp)
h = Dense(64, activation='relu')(h)
out = Dense(10, activation='linear')(h)
model = Model(inp, out)
sgd = optimizers.SGD(lr=0.1, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss='sparse_categorical_crossentropy', optimizer=sgd)
model.fit(x_train / 255., y_train, batch_size=32, epochs=5)

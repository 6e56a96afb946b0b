"""Classify scikit-learn's bundled 8x8 handwritten digits: softmax + categorical cross-entropy.

    pip install pydl[examples]          # scikit-learn (bundles the data); matplotlib for the plot
    python examples/digits.py           # prints the test accuracy (about 97-98%)
"""

import argparse

import pydl
from pydl import layers


def main(epochs=40, plot="digits_history.png", verbose=2):
    pydl.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = pydl.datasets.digits.load_data()
    # Pixels are 0..16: flatten the 8x8 images and scale to [0, 1]; one-hot labels for
    # categorical cross-entropy.
    x_train = x_train.reshape(len(x_train), 64).astype("float32") / 16
    x_test = x_test.reshape(len(x_test), 64).astype("float32") / 16
    y_train = pydl.utils.to_categorical(y_train, 10)
    y_test = pydl.utils.to_categorical(y_test, 10)

    model = pydl.Sequential([
        pydl.Input(shape=(64,)),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=pydl.optimizers.Adam(learning_rate=0.003),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1,
                        verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"digits: test loss {loss:.4f}, test accuracy {accuracy:.4f} after {epochs} epochs")

    if plot:
        try:
            pydl.utils.plot_history(history, plot)
            print(f"training curves written to {plot}")
        except ImportError as e:  # matplotlib is optional
            print(e)
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--plot", default="digits_history.png", help="PNG of the curves ('' for none)")
    args = parser.parse_args()
    main(args.epochs, args.plot)

"""Train the digits classifier on several processes at once: data parallelism over MPI.

    pip install "pydl[mpi,examples]"                     # mpi4py + mpich; scikit-learn's digits
    mpiexec -n 2 python examples/distributed_digits.py   # 2 processes, 1 model
    python examples/distributed_digits.py                # 1 process: the same test accuracy

Every process runs this same script on the same data. `batch_size` is the global
batch: with 2 processes each computes 32 of every 64 samples, the gradients are
summed over the processes after each backward pass, and every process applies the
same update -- the weights stay bitwise identical everywhere, and the run matches a
1-process run up to float rounding. Rank 0 prints; the others stay quiet.
"""

import argparse

import pydl
from pydl import distribution, layers


def main(epochs=30, verbose=2):
    distribution.initialize()  # joins the MPI world under mpiexec / srun; else a world of one
    distribution.set_distribution(distribution.DataParallel())
    pydl.utils.set_random_seed(0)  # every process starts alike (fit broadcasts rank 0's anyway)
    (x_train, y_train), (x_test, y_test) = pydl.datasets.digits.load_data()
    x_train = x_train.reshape(len(x_train), 64).astype("float32") / 16
    x_test = x_test.reshape(len(x_test), 64).astype("float32") / 16

    model = pydl.Sequential([
        pydl.Input(shape=(64,)),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=pydl.optimizers.Adam(learning_rate=0.003),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_split=0.1,
              verbose=verbose)
    # evaluate is data-parallel too: each process scores its part, the counts are summed
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    if distribution.is_chief():
        print(f"digits on {distribution.size()} process(es): test loss {loss:.4f}, "
              f"test accuracy {accuracy:.4f} after {epochs} epochs", flush=True)
    distribution.set_distribution(None)
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args()
    main(args.epochs, args.verbose)

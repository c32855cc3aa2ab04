"""The Keras data set loader, against fake caches in a temporary KERAS_HOME (no network)."""

import gzip
import io
import pickle
import tarfile

import numpy as np
import pytest

from course.data import KERAS_DATASETS, DatasetUnavailable, is_cached, keras_home, load


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the network must not be touched")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_keras_home(home, monkeypatch):
    assert keras_home() == home
    monkeypatch.delenv("KERAS_HOME")
    assert keras_home().name == ".keras"


@pytest.mark.parametrize("name", KERAS_DATASETS)
def test_empty_cache_raises_one_clear_line(home, name):
    assert not is_cached(name)
    with pytest.raises(DatasetUnavailable) as info:
        load(name)
    message = str(info.value)
    assert "\n" not in message
    assert str(home / "datasets") in message
    assert f"course.data.load('{name}', download=True)" in message
    assert "offline" in message


def test_mnist_message(home):
    with pytest.raises(DatasetUnavailable) as info:
        load("mnist")
    datasets = home / "datasets"
    assert str(info.value) == (
        f"MNIST is not in the Keras cache ({datasets / 'mnist.npz'}) and this course runs "
        "offline by default; run course.data.load('mnist', download=True) once on a machine "
        f"with network, or copy mnist.npz into {datasets}/."
    )


def test_unknown_name_and_bad_download():
    with pytest.raises(ValueError, match=r"Received: name='mnist2'"):
        load("mnist2")
    with pytest.raises(ValueError, match=r"Received: name='imdb'"):
        is_cached("imdb")
    with pytest.raises(ValueError, match=r"Received: download='yes'"):
        load("mnist", download="yes")


def _fake(n, shape, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def test_fake_mnist_is_read_from_the_cache(home):
    (home / "datasets").mkdir()
    x_train, x_test = _fake(6, (28, 28), 0), _fake(3, (28, 28), 1)
    y_train, y_test = np.arange(6, dtype=np.uint8), np.arange(3, dtype=np.uint8)
    np.savez(
        home / "datasets" / "mnist.npz",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
    )
    assert is_cached("mnist")
    (a, b), (c, d) = load("mnist")
    for got, expected in ((a, x_train), (b, y_train), (c, x_test), (d, y_test)):
        np.testing.assert_array_equal(got, expected)
    # A cached data set is read locally even when downloading is allowed.
    np.testing.assert_array_equal(load("mnist", download=True)[0][0], x_train)


def test_corrupt_mnist_raises(home):
    (home / "datasets").mkdir()
    (home / "datasets" / "mnist.npz").write_bytes(b"not a zip file")
    with pytest.raises(DatasetUnavailable, match="could not be read"):
        load("mnist")


def test_fake_fashion_mnist_is_read_from_the_cache(home):
    folder = home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    x_train, x_test = _fake(5, (28, 28), 2), _fake(2, (28, 28), 3)
    y_train, y_test = np.arange(5, dtype=np.uint8), np.arange(2, dtype=np.uint8)
    for prefix, x, y in (("train", x_train, y_train), ("t10k", x_test, y_test)):
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(bytes(8) + y.tobytes())
        )
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(bytes(16) + x.tobytes())
        )
    assert is_cached("fashion_mnist")
    (a, b), (c, d) = load("fashion_mnist")
    assert a.shape == (5, 28, 28) and c.shape == (2, 28, 28)
    for got, expected in ((a, x_train), (b, y_train), (c, x_test), (d, y_test)):
        np.testing.assert_array_equal(got, expected)


def test_fake_cifar10_archive_is_read_from_the_cache(home):
    (home / "datasets").mkdir()
    rng = np.random.default_rng(4)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, 2)]
        batches[name] = (data, labels)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, (data, labels) in batches.items():
            # Protocol 4 stores the array through numpy's _reconstruct, like the real files.
            blob = pickle.dumps({b"data": data, b"labels": labels}, protocol=4)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            archive.addfile(info, io.BytesIO(blob))
    (home / "datasets" / "cifar-10-batches-py-target_archive").write_bytes(buffer.getvalue())
    assert is_cached("cifar10")
    (x_train, y_train), (x_test, y_test) = load("cifar10")
    assert x_train.shape == (10, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (10, 1) and y_test.shape == (2, 1) and x_test.shape == (2, 32, 32, 3)
    data, labels = batches["data_batch_2"]
    np.testing.assert_array_equal(x_train[2], data[0].reshape(3, 32, 32).transpose(1, 2, 0))
    assert y_train[2:4, 0].tolist() == labels


def test_cifar10_refuses_unsafe_pickles(home):
    folder = home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps(print))
    assert is_cached("cifar10")
    with pytest.raises(DatasetUnavailable, match="refusing to unpickle builtins.print"):
        load("cifar10")

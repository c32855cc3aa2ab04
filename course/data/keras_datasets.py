"""MNIST, Fashion-MNIST and CIFAR-10 from the local Keras cache, without touching the network.

`keras.datasets.<name>.load_data()` downloads into `<keras home>/datasets/` and, for MNIST and
CIFAR-10, downloads again when the cached file's checksum does not match. The course runs
offline by default, so `load` reads the cached files itself (same file layout and same arrays
as Keras 3, no TensorFlow import) and only calls Keras when asked to download.
"""

import gzip
import io
import os
import pathlib
import pickle
import tarfile

import numpy as np

KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")

_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
_FASHION_DIR = "fashion-mnist"
_FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
# Keras 3 extracts cifar-10-python.tar.gz (saved as `<dir>_archive`) into `<dir>/`; Keras 2
# used `cifar-10-batches-py.tar.gz` and `cifar-10-batches-py/`. Both layouts are read.
_CIFAR_DIR = "cifar-10-batches-py-target"
_CIFAR_ARCHIVES = (f"{_CIFAR_DIR}_archive", "cifar-10-batches-py.tar.gz")
_CIFAR_FOLDERS = (os.path.join(_CIFAR_DIR, "cifar-10-batches-py"), "cifar-10-batches-py")
_CIFAR_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


class DatasetUnavailable(RuntimeError):
    """A Keras data set is not in the local cache and downloading was not requested."""


def keras_home():
    """Keras' cache and config directory, as Keras 3 computes it.

    `$KERAS_HOME` if set, else `~/.keras` (or `/tmp/.keras` when the home directory is not
    writable). Data sets live in its `datasets/` subdirectory.
    """
    if "KERAS_HOME" in os.environ:
        return pathlib.Path(os.environ["KERAS_HOME"]).expanduser()
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return pathlib.Path(base) / ".keras"


def is_cached(name):
    """Whether `load(name)` finds the data set's files in the local Keras cache.

    For MNIST this is `datasets/mnist.npz`, for Fashion-MNIST the four
    `datasets/fashion-mnist/*-ubyte.gz` files, for CIFAR-10 the extracted
    `datasets/cifar-10-batches-py-target/` folder or the downloaded archive
    `datasets/cifar-10-batches-py-target_archive` (paths relative to `keras_home()`).
    """
    _check_name(name)
    return _cached_source(name) is not None


def load(name, download=False):
    """Loads a Keras data set: `((x_train, y_train), (x_test, y_test))` as uint8 arrays.

    Shapes are those of `keras.datasets.<name>.load_data()`: MNIST and Fashion-MNIST
    `(60000, 28, 28)`, `(60000,)`, `(10000, 28, 28)`, `(10000,)`; CIFAR-10
    `(50000, 32, 32, 3)`, `(50000, 1)`, `(10000, 32, 32, 3)`, `(10000, 1)` (channels last).

    If the files are in the local Keras cache they are read directly, without network.
    Otherwise, with `download=True`, `keras.datasets.<name>.load_data()` downloads them (once;
    later calls read the cache); with `download=False` (default) `DatasetUnavailable` is raised
    with instructions, and the network is never touched.

    Args:
        name: one of `KERAS_DATASETS`.
        download: whether Keras may download the data set if it is not cached.
    """
    _check_name(name)
    if download not in (True, False):
        raise ValueError(
            f"Expected `download` to be True or False. Received: download={download!r}"
        )
    source = _cached_source(name)
    if source is not None:
        try:
            return _READERS[name](source)
        except Exception as e:
            raise DatasetUnavailable(
                f"{_TITLES[name]} was found in the Keras cache ({source}) but could not be read "
                f"({type(e).__name__}: {e}); delete it and run "
                f"course.data.load({name!r}, download=True) on a machine with network."
            ) from e
    if not download:
        raise DatasetUnavailable(_unavailable_message(name))
    import keras

    try:
        return getattr(keras.datasets, name).load_data()
    except Exception as e:
        raise DatasetUnavailable(
            f"Downloading {_TITLES[name]} with keras.datasets.{name}.load_data() failed "
            f"({type(e).__name__}: {e}); to work offline, {_copy_hint(name)}"
        ) from e


def _check_name(name):
    if name not in KERAS_DATASETS:
        raise ValueError(f"Expected `name` to be one of {KERAS_DATASETS}. Received: name={name!r}")


def _datasets_dir():
    return keras_home() / "datasets"


def _cached_source(name):
    """The cached file or folder `load` reads for `name`, or `None`."""
    root = _datasets_dir()
    if name == "mnist":
        path = root / "mnist.npz"
        return path if path.is_file() else None
    if name == "fashion_mnist":
        path = root / _FASHION_DIR
        return path if all((path / f).is_file() for f in _FASHION_FILES) else None
    for folder in _CIFAR_FOLDERS:
        path = root / folder
        if all((path / f).is_file() for f in _CIFAR_BATCHES):
            return path
    for archive in _CIFAR_ARCHIVES:
        path = root / archive
        if path.is_file():
            return path
    return None


def _unavailable_message(name):
    root = _datasets_dir()
    where = {
        "mnist": root / "mnist.npz",
        "fashion_mnist": root / _FASHION_DIR,
        "cifar10": root / _CIFAR_DIR,
    }[name]
    return (
        f"{_TITLES[name]} is not in the Keras cache ({where}) and this course runs offline by "
        f"default; run course.data.load({name!r}, download=True) once on a machine with "
        f"network, or {_copy_hint(name)}"
    )


def _copy_hint(name):
    root = _datasets_dir()
    if name == "mnist":
        return f"copy mnist.npz into {root}{os.sep}."
    if name == "fashion_mnist":
        return f"copy {', '.join(_FASHION_FILES)} into {root / _FASHION_DIR}{os.sep}."
    return f"copy cifar-10-python.tar.gz to {root / _CIFAR_ARCHIVES[0]}."


def _read_mnist(path):
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _read_fashion_mnist(folder):
    arrays = []
    for fname in _FASHION_FILES:
        with gzip.open(folder / fname, "rb") as f:
            data = f.read()
        if "labels" in fname:
            arrays.append(np.frombuffer(data, np.uint8, offset=8))
        else:
            arrays.append(np.frombuffer(data, np.uint8, offset=16).reshape(-1, 28, 28))
    y_train, x_train, y_test, x_test = arrays
    return (x_train, y_train), (x_test, y_test)


def _read_cifar10(source):
    if source.is_dir():
        blobs = {name: (source / name).read_bytes() for name in _CIFAR_BATCHES}
    else:
        blobs = {}
        with tarfile.open(source) as archive:
            for member in archive.getmembers():
                base = os.path.basename(member.name)
                if member.isfile() and base in _CIFAR_BATCHES:
                    blobs[base] = archive.extractfile(member).read()
        missing = [b for b in _CIFAR_BATCHES if b not in blobs]
        if missing:
            raise ValueError(f"archive lacks {', '.join(missing)}")
    batches = [_cifar_batch(blobs[name]) for name in _CIFAR_BATCHES]
    x_train = np.concatenate([b[0] for b in batches[:5]])
    y_train = np.concatenate([b[1] for b in batches[:5]])
    x_test, y_test = batches[5]
    return (x_train, y_train), (x_test, y_test)


def _cifar_batch(blob):
    batch = _NumpyOnlyUnpickler(io.BytesIO(blob), encoding="bytes").load()
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    x = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    y = np.asarray(batch["labels"], dtype=np.uint8).reshape(-1, 1)
    return x, y


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers and NumPy arrays only (like Keras' RestrictedUnpickler)."""

    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
        }
    )

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")


_READERS = {"mnist": _read_mnist, "fashion_mnist": _read_fashion_mnist, "cifar10": _read_cifar10}

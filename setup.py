"""All metadata lives in pyproject.toml; this file only works around a setuptools bug.

An editable install (`pip install -e .`) leaves out `[tool.setuptools.data-files]` (the Jupyter
configuration that hides the instructor's tools from students): setuptools' editable_wheel
asks the distribution `has_data()`, a method it does not have (it is `has_data_files()`).
"""

from setuptools import setup
from setuptools.dist import Distribution


class DistributionWithData(Distribution):
    def has_data(self):
        return self.has_data_files()


if __name__ == "__main__":  # run by the build backend, never on import
    setup(distclass=DistributionWithData)

"""All metadata lives in pyproject.toml; this file only works around two setuptools limits.

- An editable install (`pip install -e ./solutions`) leaves out `[tool.setuptools.data-files]`
  (the Jupyter configuration that gives instructors Formgrader, Course List and Create
  Assignment): setuptools' editable_wheel asks the distribution `has_data()`, a method it does
  not have (it is `has_data_files()`).
- This folder is the `solutions` package itself, so this file would ship as a module of it.
"""

import os

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution


class DistributionWithData(Distribution):
    def has_data(self):
        return self.has_data_files()


class BuildWithoutSetup(build_py):
    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if os.path.abspath(m[2]) != os.path.abspath(__file__)]


if __name__ == "__main__":  # run by the build backend, never on import
    setup(distclass=DistributionWithData, cmdclass={"build_py": BuildWithoutSetup})

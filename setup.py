"""hdr-keras: deep HDR reconstruction (multi-exposure merge and single-image expansion)."""

from setuptools import find_packages, setup

RUNTIME = [
    "tensorflow>=2.21,<2.22",
    "keras>=3.15,<4",
    "tensorboard>=2.20",
    "absl-py>=2.1",
    "numpy>=1.26",
    "opencv-python-headless>=4.10",
    "openexr>=3.3",
    "tensorflow-serving-api>=2.21,<2.22",
    "grpcio>=1.66",
    "tqdm>=4.66",
    "scipy>=1.11",  # MatConvNet .mat files (Kalantari's published network)
]
TEST = ["pytest>=8", "pytest-xdist>=3.5"]

setup(
    name="hdr-keras",
    version="0.1.0",
    description="HDR reconstruction in Keras 3 / TensorFlow: Kalantari, Wu, AHDRNet, HDRCNN, SingleHDR.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["hdr_keras*", "training*", "serving*", "tfrecords*"]),
    install_requires=RUNTIME,
    extras_require={"test": TEST},
    license="Apache-2.0",
)

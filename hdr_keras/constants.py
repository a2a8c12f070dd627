"""Numerical constants shared by every method; each is defined here and nowhere else."""

# mu-law tonemapper T(H) = log(1 + MU * H) / log(1 + MU) (Kalantari 2017 and successors).
MU = 5000.0
# Display gamma used to map LDR pixel values to linear radiance (Z ** GAMMA / t).
GAMMA = 2.2

# HDRCNN (Eilertsen et al. 2017).
HDRCNN_TAU = 0.95  # saturation threshold of the blend mask
HDRCNN_EPS = 1.0 / 255.0  # offset of the log-domain transform log(f^-1(x) + eps)
HDRCNN_INVERSE_CURVE_EXPONENT = 2.0  # f^-1(x) = x ** 2 in the authors' code

# Rec. 709 luminance weights, as in HDRCNN's illuminance/reflectance loss.
LUMINANCE_WEIGHTS = (0.213, 0.715, 0.072)

# Caffe-style VGG16 input: BGR in [0, 255] minus these per-channel means (B, G, R).
VGG_MEAN_BGR = (103.939, 116.779, 123.68)

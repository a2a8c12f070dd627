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

# HDRCNN virtual camera (METHODS.md section 4): defaults of VirtualCameraConfig.
HDRCNN_HUE_STD_DEGREES = 7.0  # hue shift ~ N(0, 7 degrees)
HDRCNN_SATURATION_STD = 0.1  # chroma scale (1 + s), s ~ N(0, 0.1)
HDRCNN_PERCENTILE_RANGE = (0.85, 0.95)  # this percentile maps to 1 (5-15 % clipped)
HDRCNN_CURVE_N_MEAN = 0.9  # sigmoid curve exponent n ~ N(0.9, 0.1) ...
HDRCNN_CURVE_N_STD = 0.1
HDRCNN_CURVE_N_RANGE = (0.2, 2.5)  # ... clipped to this range
HDRCNN_CURVE_A_MEAN = 0.6  # sigmoid curve offset a ~ N(0.6, 0.1) ...
HDRCNN_CURVE_A_STD = 0.1
HDRCNN_CURVE_A_RANGE = (0.0, 5.0)  # ... clipped to this range
HDRCNN_NOISE_SIGMA_RANGE = (0.0, 0.01)  # additive Gaussian noise sigma ~ U[0, 0.01]
HDRCNN_JPEG_QUALITY_RANGE = (30, 100)  # JPEG quality ~ U{30..100} (inclusive)
LDR_BITS = 8  # bit depth of the simulated LDR quantisation

# Image-quality metrics (hdr_keras/metrics.py).
PSNR_CAP_DB = 100.0  # PSNR of identical images (instead of +inf, which breaks means)
SSIM_FILTER_SIZE = 11  # Gaussian window of SSIM (Wang et al. 2004)
SSIM_FILTER_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03

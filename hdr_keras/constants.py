"""Numerical constants shared by two or more methods (or by a method and the data
pipeline); each is defined here and nowhere else. A constant only one method uses
lives in that method's package (`hdr_keras.methods.<family>`)."""

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

# PU21 encoding (Mantiuk & Azimi 2021; hdr_keras/pu21.py): V = p7 * (((p1 + p2 Y^p4) /
# (1 + p3 Y^p4))^p5 - p6) for Y in [PU21_L_MIN, PU21_L_MAX] cd/m^2, parameters (p1..p7)
# of the paper's four fits as in the authors' encoder (gfxdisp/pu21, 06/02/2020).
PU21_L_MIN = 0.005  # cd/m^2; lower values are clamped
PU21_L_MAX = 10000.0  # cd/m^2; higher values are clamped
PU21_PARAMETERS = {
    "banding": (
        1.070275272, 0.4088273932, 0.153224308, 0.2520326168,
        1.063512885, 1.14115047, 521.4527484,
    ),
    "banding_glare": (
        0.353487901, 0.3734658629, 8.277049286e-05, 0.9062562627,
        0.09150303166, 0.9099517204, 596.3148142,
    ),
    "peaks": (
        1.043882782, 0.6459495343, 0.3194584211, 0.374025247,
        1.114783422, 1.095360363, 384.9217577,
    ),
    "peaks_glare": (
        816.885024, 1479.463946, 0.001253215609, 0.9329636822,
        0.06746643971, 1.573435413, 419.6006374,
    ),
}  # fmt: skip
PU21_DEFAULT_VARIANT = "banding_glare"  # the variant the authors recommend
PU21_PEAK_VALUE = 256.0  # peak of PU21 values for PSNR / SSIM (100 cd/m^2 -> ~256)
PU21_PEAK_LUMINANCE = 4000.0  # cd/m^2 given to the reference's maximum by default

# Exposure alignment of scale-ambiguous (single-image) predictions before scoring
# (hdr_keras.metrics.align_exposure): LDR pixels whose largest channel reaches this
# value are saturated and left out of the fit.
EXPOSURE_ALIGN_SATURATION = 0.95
EXPOSURE_ALIGN_EPS = 1e-6  # pixels darker than this times the reference's peak are
# left out of the fit (and keep the log-domain fit finite)

# Camera response curves (hdr_keras/ops/crf.py; SingleHDR, METHODS.md section 5).
CRF_SAMPLES = 1024  # curves are sampled at x = linspace(0, 1, CRF_SAMPLES)
CRF_NUM_COMPONENTS = 11  # PCA weights predicted by SingleHDR's Linearization-Net
EMOR_NUM_COMPONENTS = 25  # principal components in emor.txt / invemor.txt
CRF_FAMILY_SEED = 20200614  # seed of the generated curve family (built-in basis)

# SingleHDR formation model (hdr_keras/ops/camera_singlehdr.py `singlehdr_camera`), as the
# official training code: HDR normalised to mean 0.5, exposure t = 2 ** U(-3, 3),
# per-channel shot noise std sigma_s * Ht and read noise std sigma_c, clip, curve,
# 8-bit quantisation, JPEG quality U{90..100}.
LIU_HDR_MEAN = 0.5  # HDR is scaled so that its mean (all pixels, channels) is this
LIU_EXPOSURE_STOPS_RANGE = (-3.0, 3.0)  # t = 2 ** U(lo, hi)
LIU_SHOT_NOISE_MAX = 0.08 / 6.0  # sigma_s ~ U(0, max) per channel (std = sigma_s Ht)
LIU_READ_NOISE_MAX = 0.005  # sigma_c ~ U(0, max) per channel
LIU_JPEG_QUALITY_RANGE = (90, 100)  # inclusive

# SingleHDR's network and loss constants (LIU_TAU, ...) live in
# `hdr_keras.methods.liu.constants`.

# TensorLayer's BatchNormLayer defaults, used by HDRCNN's code and by SingleHDR's
# HDRCNN-shaped Hallucination-Net.
TENSORLAYER_BN_MOMENTUM = 0.9
TENSORLAYER_BN_EPSILON = 1e-5

# Optical flow for Kalantari's alignment (hdr_keras/ops/flow/, METHODS.md section 1):
# Ce Liu's coarse-to-fine variational flow with the parameters Kalantari's code uses.
FLOW_ALPHA = 0.012  # weight of the smoothness term
FLOW_RATIO = 0.75  # downsampling ratio between pyramid levels
FLOW_MIN_WIDTH = 20  # width of the coarsest pyramid level (at least)
FLOW_OUTER_ITERATIONS = 7  # outer fixed-point iterations (re-warp), + level index
FLOW_INNER_ITERATIONS = 1  # inner fixed-point iterations (IRLS re-weighting)
FLOW_SOR_ITERATIONS = 30  # SOR sweeps per linear system, + 3 x level index
FLOW_SOR_OMEGA = 1.8  # over-relaxation factor of Liu's SOR solver
# Interpolation of the re-warped frame inside the solver: Liu's code defaults to
# "bilinear" (its "bicubic" branch is the alternative); bicubic is used here: it
# cuts the end-point error by about 40 % (benchmarks/flow_accuracy.py).
FLOW_WARP_INTERPOLATION = "bicubic"
FLOW_MEDIAN_FILTER = 5  # median of the flow after each warp (Sun et al. 2010); 0: off
# The solver's warp and SOR as XLA programs compiled per size bucket (several times
# faster; a SavedModel holding them needs XLA:CPU JIT in the server, see
# docs/optical-flow.md); False: TF ops only.
FLOW_JIT_COMPILE = True

/**
 * `@sgenet/core/fft`: the FFTs behind the kernel estimator and the deconvolution, for tools that
 * need the same transforms (benchmarks, experiments). Sizes 2^a·3^b·5^c; real fields as half spectra (`RealSpectrum`).
 *
 * @packageDocumentation
 */
export { cropCentred, fft1d, forwardTwoReal, isFftSize, nextFftSize, psfToOtf, Spectrum } from './fft.js';
export { isRealFftSize, kernelSpectrum, nextRealFftWidth, RealSpectrum } from './real.js';

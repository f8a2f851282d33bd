/** One measurement shape: what passportOf says of a protocol, and what measurementOf keeps. */
import { describe, expect, it } from 'vitest';

import { measurementOf, passportOf } from './measurement';
import { passportDifference } from './passport';

const reference = 'cifar10-train@sha256:a23bbde32be588dc(50000)';

describe('passportOf', () => {
  it("names a generator's protocol field by field, so a changed weight or resize is a different passport", () => {
    const ema = passportOf('cifar10-classifier@133c8f4c119b', 32, 2000, reference, {
      generator: { conditional: false, weights: 'ema', quantization: 'uint8' },
    });
    expect(ema).toEqual({
      feature_network: 'cifar10-classifier@133c8f4c119b',
      resize: 'none (32×32)',
      samples: 2000,
      reference: {
        name: 'cifar10',
        split: 'train',
        count: 50000,
        digest: 'sha256:a23bbde32be588dc',
      },
      latent_protocol: 'stream batches',
      weights: 'ema',
      quantization: 'uint8',
    });
    const raw64 = passportOf('cifar10-classifier@133c8f4c119b', 64, 2000, reference, {
      generator: { conditional: true, weights: 'raw', quantization: 'uint8', truncation: 2 },
    });
    expect(raw64.resize).toBe('bilinear 64→32 (half-pixel centres)');
    expect(raw64.latent_protocol).toBe(
      'stream batches, z truncated at ±2, sample i in class i mod classes',
    );
    expect(passportDifference(ema, raw64)?.field).toBe('resize');
  });

  it('real or noise images have no weights, and a test-split reference says so', () => {
    const p = passportOf('x', 32, 100, 'cifar10-test@sha256:ab(10000)', {
      images: 'cifar10 test images in file order',
    });
    expect(p).toMatchObject({ weights: 'none', quantization: 'none' });
    expect(p.reference).toMatchObject({ split: 'test', count: 10000 });
  });
});

describe('measurementOf', () => {
  it('keeps the numbers and the passport of a larger record, and drops what was not measured', () => {
    const passport = passportOf('x', 32, 100, reference, { images: 'noise' });
    const line = {
      type: 'fid',
      step: 7,
      fid: 2.5,
      kid: 0.01,
      kid_std: 0.001,
      copies: null,
      precision: undefined,
      seconds: 3,
      passport,
    };
    expect(measurementOf(line)).toEqual({ fid: 2.5, kid: 0.01, kid_std: 0.001, passport });
  });
});

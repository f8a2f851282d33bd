import { describe, expect, it } from 'vitest';

import {
  describeDifference,
  latentProtocol,
  passportDifference,
  passportLine,
  referenceOf,
  resizeOf,
  type Passport,
} from './passport';

const shipped: Passport = {
  feature_network: 'cifar10-classifier@133c8f4c119b',
  resize: resizeOf('cifar10-classifier@133c8f4c119b', 32),
  samples: 2000,
  reference: referenceOf('cifar10-train@sha256:a23bbde32be588dc(50000)'),
  latent_protocol: latentProtocol(),
  weights: 'ema',
  quantization: 'float32',
};

describe('passport', () => {
  it('reads the reference description every metrics line carries', () => {
    expect(shipped.reference).toEqual({
      name: 'cifar10',
      split: 'train',
      count: 50000,
      digest: 'sha256:a23bbde32be588dc',
    });
    expect(referenceOf(undefined).digest).toBe('unrecorded');
  });

  it('names the first field that differs, so a refusal says why', () => {
    expect(passportDifference(shipped, { ...shipped })).toBeNull();
    const raw = { ...shipped, weights: 'raw' };
    expect(describeDifference(passportDifference(shipped, raw)!)).toBe(
      'weights differs: ema vs raw',
    );
    const test = { ...shipped, reference: { ...shipped.reference, split: 'test' } };
    expect(passportDifference(shipped, test)?.field).toBe('reference.split');
    expect(passportDifference(shipped, { ...shipped, samples: 10000 })?.field).toBe('samples');
    const truncated = { ...shipped, latent_protocol: latentProtocol(1.5) };
    expect(passportDifference(shipped, truncated)?.b).toBe('stream batches, z truncated at ±1.5');
  });

  it('says how 64-pixel images reach each network', () => {
    expect(resizeOf('cifar10-classifier@x', 64)).toBe('bilinear 64→32 (half-pixel centres)');
    expect(resizeOf('inception-v3@x', 32)).toBe('bilinear 32→299');
    expect(passportLine(shipped)).toContain('2,000 samples vs cifar10 train (50,000');
  });
});

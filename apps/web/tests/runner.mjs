// The web app's tiny test runner: named async checks, a ✓/✗ line each with its time, counts.
export function createSuite() {
  const results = { passed: 0, failed: 0 };
  async function test(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
      results.passed++;
      console.log(`  ✓ ${name} (${Date.now() - t0} ms)`);
    } catch (err) {
      results.failed++;
      console.log(
        `  ✗ ${name}\n    ${String(err?.stack ?? err)
          .split('\n')
          .slice(0, 5)
          .join('\n    ')}`,
      );
    }
  }
  return { test, results };
}

// Logistic regression by Newton's method (iteratively reweighted least squares) with a small ridge
// penalty, on standardized features, and the two checks a probability model needs: AUC (does it rank?)
// and calibration by decile (do its probabilities mean what they say?). A handful of features and
// at most a sample of customers: exact Newton steps converge in a few iterations.

export interface LogisticModel {
  readonly features: readonly string[];
  /** Intercept first, then one coefficient per feature, on the standardized scale. */
  readonly coefficients: number[];
  readonly means: number[];
  readonly scales: number[];
  readonly iterations: number;
  readonly converged: boolean;
}

const RIDGE = 1e-4;
const MAX_ITERATIONS = 50;

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export function fitLogistic(
  features: readonly string[],
  rows: readonly number[][],
  labels: readonly number[],
): LogisticModel {
  const k = features.length;
  const n = rows.length;
  const means = Array.from(
    { length: k },
    (_, j) => rows.reduce((s, r) => s + (r[j] as number), 0) / Math.max(1, n),
  );
  const scales = means.map((m, j) => {
    const variance = rows.reduce((s, r) => s + ((r[j] as number) - m) ** 2, 0) / Math.max(1, n);
    return Math.sqrt(variance) || 1;
  });
  const x = rows.map((r) => [1, ...r.map((v, j) => (v - (means[j] as number)) / (scales[j] as number))]);
  let beta = new Array<number>(k + 1).fill(0);
  let iterations = 0;
  let converged = false;
  while (iterations < MAX_ITERATIONS) {
    iterations++;
    const gradient = new Array<number>(k + 1).fill(0);
    const hessian = Array.from({ length: k + 1 }, () => new Array<number>(k + 1).fill(0));
    for (let i = 0; i < n; i++) {
      const xi = x[i] as number[];
      const p = sigmoid(xi.reduce((s, v, j) => s + v * (beta[j] as number), 0));
      const w = p * (1 - p);
      for (let a = 0; a <= k; a++) {
        gradient[a] = (gradient[a] as number) + ((labels[i] as number) - p) * (xi[a] as number);
        const row = hessian[a] as number[];
        for (let b = 0; b <= k; b++) row[b] = (row[b] as number) + w * (xi[a] as number) * (xi[b] as number);
      }
    }
    for (let a = 1; a <= k; a++) {
      gradient[a] = (gradient[a] as number) - RIDGE * n * (beta[a] as number);
      (hessian[a] as number[])[a] = ((hessian[a] as number[])[a] as number) + RIDGE * n;
    }
    const step = solve(hessian, gradient);
    beta = beta.map((b, j) => b + (step[j] as number));
    if (Math.max(...step.map(Math.abs)) < 1e-8) {
      converged = true;
      break;
    }
  }
  return { features, coefficients: beta, means, scales, iterations, converged };
}

export function predictLogistic(model: LogisticModel, row: readonly number[]): number {
  let z = model.coefficients[0] as number;
  for (let j = 0; j < model.features.length; j++) {
    z +=
      (model.coefficients[j + 1] as number) *
      (((row[j] as number) - (model.means[j] as number)) / (model.scales[j] as number));
  }
  return sigmoid(z);
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is small and positive definite). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] as number]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs((m[r] as number[])[col] as number) > Math.abs((m[pivot] as number[])[col] as number))
        pivot = r;
    [m[col], m[pivot]] = [m[pivot] as number[], m[col] as number[]];
    const p = (m[col] as number[])[col] as number;
    if (p === 0) continue;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = ((m[r] as number[])[col] as number) / p;
      if (f === 0) continue;
      for (let c = col; c <= n; c++)
        (m[r] as number[])[c] = ((m[r] as number[])[c] as number) - f * ((m[col] as number[])[c] as number);
    }
  }
  return m.map((row, i) => {
    const p = row[i] as number;
    return p === 0 ? 0 : (row[n] as number) / p;
  });
}

/** Area under the ROC curve by the rank-sum (Mann-Whitney) statistic, ties at half; null without both classes. */
export function auc(scores: readonly number[], labels: readonly number[]): number | null {
  const order = scores.map((s, i) => ({ s, y: labels[i] as number })).sort((a, b) => a.s - b.s);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && (order[j] as { s: number }).s === (order[i] as { s: number }).s) j++;
    const midRank = (i + j + 1) / 2;
    for (let t = i; t < j; t++) {
      if ((order[t] as { y: number }).y === 1) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface CalibrationBin {
  readonly customers: number;
  readonly predicted: number;
  readonly observed: number;
}

/** Customers in deciles of the predicted probability: mean predicted against the observed rate. */
export function calibrationBins(
  scores: readonly number[],
  labels: readonly number[],
  bins = 10,
): CalibrationBin[] {
  const order = scores.map((s, i) => ({ s, y: labels[i] as number })).sort((a, b) => a.s - b.s);
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const part = order.slice(
      Math.floor((b * order.length) / bins),
      Math.floor(((b + 1) * order.length) / bins),
    );
    if (part.length === 0) continue;
    const mean = (f: (r: { s: number; y: number }) => number) =>
      part.reduce((s, r) => s + f(r), 0) / part.length;
    out.push({
      customers: part.length,
      predicted: Math.round(mean((r) => r.s) * 1000) / 1000,
      observed: Math.round(mean((r) => r.y) * 1000) / 1000,
    });
  }
  return out;
}

"""scikit-learn's K-means on the matrix bench/segment.ts clustered, for a like-for-like timing.

Usage: /usr/bin/python3 bench/sklearn_kmeans.py MATRIX ROWS COLS K SEED MAX_ITER TOL [REPEATS]

MATRIX is raw little-endian float64, row-major (ROWS x COLS), as bench/segment.ts writes it. Only the
fit is timed (loading is not); with REPEATS > 1 the same fit runs that many times and `seconds` is the
median (shared machines are noisy). Prints one JSON object: seconds, runs, inertia, iterations,
versions, threads.
"""

import json
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans


def main() -> None:
    path, rows, cols, k, seed, max_iter, tol = sys.argv[1:8]
    repeats = int(sys.argv[8]) if len(sys.argv) > 8 else 1
    matrix = np.fromfile(path, dtype="<f8").reshape(int(rows), int(cols))
    runs = []
    for _ in range(repeats):
        model = KMeans(
            n_clusters=int(k),
            init="k-means++",
            n_init=1,
            max_iter=int(max_iter),
            tol=float(tol),
            random_state=int(seed),
            algorithm="lloyd",
        )
        started = time.perf_counter()
        model.fit(matrix)
        runs.append(time.perf_counter() - started)
    try:
        from threadpoolctl import threadpool_info

        threads = {info["internal_api"]: info["num_threads"] for info in threadpool_info()}
    except ImportError:
        threads = {}
    print(
        json.dumps(
            {
                "seconds": float(np.median(runs)),
                "runs": runs,
                "inertia": float(model.inertia_),
                "iterations": int(model.n_iter_),
                "sklearn": sklearn.__version__,
                "numpy": np.__version__,
                "threads": threads,
            }
        )
    )


if __name__ == "__main__":
    main()

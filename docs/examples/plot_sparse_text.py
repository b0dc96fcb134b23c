"""
Sparse text: documents as TF-IDF rows
=====================================

Text classification is the home ground of linear SVMs: many more features
(words) than samples, each document using a few dozen of them. The data stays
in CSR form all the way; the solvers touch only the non-zeros of a row
(``dual_cd``'s compiled kernel, Newton's products with ``X``).

The documents here are synthetic, so that the example needs no download:
each is a bag of about 65 words drawn from a Zipf-distributed vocabulary of
20,000 words, except that 5 % of its words come from the 100 topic words of
its class (two classes, two disjoint lists). Counts become
TF-IDF rows with ``TfidfTransformer``, as they would from a real corpus
(``TfidfVectorizer`` on raw text gives the same kind of matrix).

Left: mean 5-fold cross-validated accuracy along ``C`` (the error bars are
the standard deviation over the folds), for the hinge and the squared hinge.
Right: the time of one fit on the whole set along ``C`` (best of 3), ours
(``solver="auto"``: ``dual_cd`` on such wide data up to ``C = 10``, the
rows having unit norm, ``newton`` above) and
``LinearSVC`` with the same loss and ``C``; ``fit_intercept=False`` and a
penalized intercept differ, so both fit without one here, the same objective.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.svm import LinearSVC

from hinge_estimators import HingeClassifier

rng = np.random.default_rng(0)
n_docs, n_words, n_topic_words = 4000, 20_000, 100
zipf = 1.0 / np.arange(1, n_words + 1) ** 1.1
topic_words = rng.choice(
    np.arange(200, n_words), size=(2, n_topic_words), replace=False
)
y = rng.integers(0, 2, size=n_docs)
lengths = rng.poisson(60, size=n_docs) + 5
TOPIC_SHARE = 0.05  # the fraction of a document's words drawn from its topic
rows, cols = [], []
for label in (0, 1):
    docs = np.flatnonzero(y == label)
    n_tokens = lengths[docs].sum()
    background = rng.choice(n_words, size=n_tokens, p=zipf / zipf.sum())
    topical = rng.choice(topic_words[label], size=n_tokens)
    words = np.where(rng.random(n_tokens) < TOPIC_SHARE, topical, background)
    rows.append(np.repeat(docs, lengths[docs]))
    cols.append(words)
counts = sp.csr_matrix(
    (np.ones(sum(len(r) for r in rows)), (np.concatenate(rows), np.concatenate(cols))),
    shape=(n_docs, n_words),
)
counts.sum_duplicates()
X = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
print(
    f"X: {X.shape[0]} documents x {X.shape[1]} words, CSR, "
    f"{X.nnz / X.shape[0]:.0f} non-zeros per row ({X.nnz / np.prod(X.shape):.2%})"
)

# %%
# Cross-validated accuracy along ``C``, and the time of one fit.

Cs = np.logspace(-2, 2, 7)
folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for loss, color in [("hinge", "tab:blue"), ("squared_hinge", "tab:green")]:
    scores = np.array(
        [cross_val_score(HingeClassifier(loss=loss, C=C), X, y, cv=folds) for C in Cs]
    )
    left.errorbar(
        Cs,
        scores.mean(axis=1),
        yerr=scores.std(axis=1),
        marker="o",
        capsize=3,
        color=color,
        label=loss,
    )
    best = scores.mean(axis=1).argmax()
    print(
        f"{loss}: best C {Cs[best]:g}, CV accuracy {scores[best].mean():.3f} "
        f"± {scores[best].std():.3f}"
    )
    for name, make, style in [
        (
            "ours",
            lambda C, loss=loss: HingeClassifier(loss=loss, C=C, fit_intercept=False),
            "o-",
        ),
        (
            "LinearSVC",
            lambda C, loss=loss: LinearSVC(loss=loss, C=C, fit_intercept=False),
            "s--",
        ),
    ]:
        times = []
        for C in Cs:
            best_time = np.inf
            for _ in range(3):
                model = make(C)
                start = time.perf_counter()
                model.fit(X, y)
                best_time = min(best_time, time.perf_counter() - start)
            times.append(best_time)
        right.loglog(Cs, times, style, color=color, label=f"{name}, {loss}")
left.set_xscale("log")
left.set_xlabel("C")
left.set_ylabel("accuracy (mean ± std over 5 folds)")
left.set_title("Cross-validated accuracy")
left.legend()
right.set_xlabel("C")
right.set_ylabel("fit time (s, best of 3)")
right.set_title("Time of one fit, same objective")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Reading it: at the smallest ``C`` the hinge's optimum has nearly zero
# coefficients, the unpenalized intercept decides alone and the accuracy falls
# to that of predicting one class; the squared hinge, whose loss keeps
# growing past the margin, degrades later. Over the rest of the range the two
# losses are within a fold's spread of each other. The fits take milliseconds
# to tens of milliseconds: at small ``C`` our fixed costs (validation, the
# certificate's products with ``X``) show, and LIBLINEAR's hinge is faster;
# at larger ``C`` the two are close, and our squared hinge is usually ahead.

# %%
# What the model learned: the words with the largest coefficients are the
# topic words of the class they point to.

model = HingeClassifier(loss="squared_hinge", C=1.0).fit(X, y)
top = np.argsort(model.coef_[0])
hits_1 = np.isin(top[-50:], topic_words[1]).mean()
hits_0 = np.isin(top[:50], topic_words[0]).mean()
print(
    f"of the 50 largest coefficients, {hits_1:.0%} are class-1 topic words; "
    f"of the 50 smallest, {hits_0:.0%} are class-0 topic words "
    f"(solver {model.solver_!r}, {model.n_iter_} iterations, "
    f"optimality_ {model.optimality_:.1e})"
)

# %%
# On the benchmark's larger sparse text set (20,000 x 100,000, 50 non-zeros
# per row; ``benchmarks/RESULTS.md``, "Exact solvers against LinearSVC"), the
# squared hinge ran at 0.5-1.0x LinearSVC's time and the hinge at 0.7-1.4x:
# fits of tens of milliseconds, where our fixed costs (validation, the gap
# checks) weigh as much as the passes themselves.

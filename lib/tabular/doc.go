// Package tabular is iagen's generative model of tables: a TVAE (Xu, Skoularidou,
// Cuesta-Infante & Veeramachaneni 2019, "Modeling Tabular Data using Conditional GAN", NeurIPS —
// the variational autoencoder they propose as a baseline next to CTGAN), and the audit of what a
// synthetic German Credit table does to the gaps between groups.
//
// Why a VAE. A row of German Credit mixes 14 categorical columns (one-hot) with 7 numeric ones,
// and a VAE puts both in one likelihood: a softmax cross-entropy per categorical column plus a
// Gaussian negative log-likelihood per numeric column, with the KL term of the ELBO (Kingma &
// Welling 2014). It trains by gradient descent on that one bound, steadily, on the 700 rows of a
// training split — where a GAN, with two networks in a minimax game and a discriminator that
// memorises 700 rows, tends to mode-collapse and drop rare categories (retraining is the purpose
// of 9 applicants in 1000, 37 are not foreign workers), precisely the small groups an audit is
// about. And the bound gives a number to compare training against held-out rows. In Xu et al.'s
// own benchmark TVAE was competitive with CTGAN and beat it on several real tables; it is the
// standard baseline of synthetic-table work (the SDV library ships both).
//
// The model ([Model]): rows are encoded ([Encoding]) as standardised numeric values followed
// by one one-hot block per categorical column; an MLP encoder gives q(z|x) = N(μ, diag σ²),
// an MLP decoder gives the numeric means and the logits of each block, and each numeric column
// has a learned σ (TVAE's). Samples decode z ~ N(0, I), draw each category from its softmax and
// each number from N(μ, σ²), de-standardised, clamped to the observed range and rounded where
// the column is integer. Everything is seeded: one seed, one backend, one table.
//
// The audit ([AuditGermanCredit]): for several seeds, a seeded 700/300 split of German Credit,
// a TVAE trained on the 700, a synthetic table of 700 rows; then the good-credit rate gap by sex
// and by age (≤ 25 against older) in the real training rows, the held-out rows and the synthetic
// rows, with AI Fairness 360's disparate impact and statistical parity difference
// (audit.AuditGroupFairness), and whether the synthetic table keeps, narrows, erases, reverses
// or widens each gap (audit.CompareGaps, a Student-t interval over seeds). Utility is "train on
// synthetic, test on real" (TSTR, Esteban et al. 2017) against "train on real, test on real"
// (TRTR): a logistic regression ([FitLogistic]) fit on either table and scored on the held-out
// real rows.
package tabular

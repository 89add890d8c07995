// Package audit measures bias and copying in what generative models produce: pure functions on
// plain Go values (histograms, shares, counts, feature matrices, text), with no model and no
// training inside, so that each number can be checked by hand. It is the measurement core of
// the course's bias audits; the models, the classifiers that label their samples and the
// reports that print the numbers live elsewhere.
//
// Representation ([AuditRepresentation]). Does the generator produce the classes in the
// proportions it should? Total variation (metrics.TotalVariation), KL(ref ‖ gen) with additive
// smoothing (metrics.KLDivergence), the fairness discrepancy of Choi et al. (2020), "Fair
// Generative Modeling via Weak Supervision" ([FairnessDiscrepancy]: the L2 distance between the
// expected class distribution of the samples and the target, usually uniform), and the classes
// it dropped. Mode dropping erases groups; this is the first thing to look at.
//
// Amplification ([AuditAmplification]). A model trained on data.Skewed MNIST (90 % of digits
// 0–4) may keep the 90 %, flatten it or push it to 97 %. The shift towards the bias, averaged
// over seeds with a Student-t 95 % interval (few seeds, so t, not 1.96: [MeanCI]), turns that
// into a verdict. For counts over many items the bias amplification of Zhao et al. (2017), "Men
// Also Like Shopping" ([BiasAmplification]) averages the same shift over items.
//
// Text gender ([AuditGender], [ScorePairs], [MinimalPairs]). On the Spanish occupation corpus
// (data.OccupationCorpus, whose per-occupation truth is known), P(femenino | ocupación) in the
// generations against the training truth, with Wilson intervals ([WilsonInterval]) and Zhao's
// amplification in the stereotyped direction; and the CrowS-Pairs score of Nangia et al. (2020):
// the share of minimal pairs ("El enfermero…" / "La enfermera…") whose stereotyped sentence the
// model finds more likely, 50 % being unbiased. [AuditTextGender] runs both on a text model
// trained on the corpus (`iagen audit gpt|lstm` on a run of corpus es-ocupaciones): neutral
// prompts cut before the gendered word ([GenderPrompt]), generations sorted by
// [GenderClassifier], sentences scored by the model's exact log-likelihood.
//
// Tables ([AuditGroupFairness]). Disparate impact and statistical parity difference as AI
// Fairness 360 defines them (Bellamy et al. 2018), for a binary outcome over a binary protected
// attribute: German Credit's "good" class over sex, in the real table or in one sampled from a
// generative model; [CompareGaps] says, over seeds, whether the synthetic table keeps, narrows,
// erases, reverses or widens the real gap (lib/tabular trains the model; `iagen tables`).
//
// Copying ([AuditCopying], [CorpusIndex.LongestCopied]). A generator can look good by
// reproducing its training set. Nearest-neighbour distances of generated features to the
// training set, against those of held-out test samples, and the share of generations closer
// than 1 % of test samples ever get (cf. Carlini et al. 2023, "Extracting Training Data from
// Diffusion Models"); for text, the longest span of a generation found verbatim in the corpus,
// with a suffix array.
//
// Authenticity ([Separability]). Can a simple classifier tell generated samples from real ones?
// The accuracy of a 1-nearest-neighbour two-sample classifier (Lopez-Paz & Oquab 2017):
// ½ when indistinguishable, 1 when every sample is obviously generated.
//
// Reports ([AuditImages], [AuditTexts], [Report]). The audits of one trained run, each with the
// baseline real data give (test images for the classes, copying and separability; held-out text
// of the same length for verbatim copying), gathered in a [Report] that `iagen audit` writes as
// audit.json and renders as a model card in Spanish ([Report.ModelCard], [CardSections]). Still
// no model inside: the command draws the samples and labels them; these take the numbers.
//
// Every function returns a one-line error on bad input instead of panicking. These numbers are
// what a model card (Mitchell et al. 2019, "Model Cards for Model Reporting") would report
// under its "quantitative analyses" and "ethical considerations" sections.
package audit

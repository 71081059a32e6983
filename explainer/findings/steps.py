"""The Why page's six steps in words: each sentence is built from the Mechanism's measurements
and says so when a measurement does not bear the step out."""

from __future__ import annotations

from explainer.findings.mechanism import ARTIFACT_RUNS, COLLAPSE_RANGE, PROBABILITY_LOSS_BOUND, Mechanism
from explainer.labels import NAMES, OPTIMIZER_NAMES, figure
from explainer.maths.linear import CLIP_EPSILON
from explainer.maths.measures import SATURATED_PROBABILITY

TITLES = (
    "1. Keras computes the loss on the logits (on TensorFlow)",
    "2. Every step moves the logits far",
    "3. The outputs saturate",
    "4. Saturated SGD is scale-equivariant",
    "5. The reported accuracy is an artifact",
    "6. The misclassified images carry the loss",
)


def loss_paths(m: Mechanism) -> str:
    """Step 1: which loss each engine computed, measured on the first batch."""
    engines = [
        f"{NAMES[row['engine']]} reports {figure(row['keras'], '.5g')}, closest to the {row['closest']} "
        f"(relative gap {figure(row['relative_gap'], '.1e')})"
        for row in m.loss_paths
    ]
    shortcut = [NAMES[engine] for engine in m.on_logits]
    clipped = [NAMES[row["engine"]] for row in m.loss_paths if row["engine"] not in m.on_logits]
    past = [NAMES[engine] for engine in m.past_probability_bound]
    return (
        "On the first training batch, with each run's final weights: " + "; ".join(engines) + ". "
        f"A cross-entropy on clipped probabilities can never exceed -log({CLIP_EPSILON:g}) = {PROBABILITY_LOSS_BOUND:.2f} "
        "per image"
        + (f", and {' and '.join(past)} report more than that. " if past else ", and no engine reports more here. ")
        + (
            f"So {' and '.join(shortcut)} compute the loss on the logits. "
            if shortcut
            else "No engine takes the logits path here. "
        )
        + (
            f"{' and '.join(clipped)} computes it on the clipped outputs: the counter-example, with a bounded loss."
            if clipped
            else ""
        )
    )


def step_sizes(m: Mechanism, batch_size: int) -> str:
    """Step 2: how far one SGD step moves the logits."""
    inputs = m.inputs
    moves = " and ".join(
        f"{figure(row['median_largest_logit_move'], '.3g')} at learning rate {row['learning_rate']:g}" for row in m.step_sizes
    )
    return (
        f"An image has a mean squared norm ||x||² of {figure(inputs['mean_squared_norm'], '.3g')}, two images a mean dot "
        f"product x·x' of {figure(inputs['mean_pair_dot'], '.3g')}. One SGD step of batch {batch_size} changes a logit by "
        f"about lr × x·x' / {batch_size} × (p - y): over the first {m.step_sizes[0]['steps']} steps, an image's largest logit "
        f"moves by a median of {moves} per step. A float32 sigmoid is exactly 1.0 from a logit of "
        f"{figure(inputs['sigmoid_one_threshold'], '.2f')} on."
    )


def saturation(m: Mechanism) -> str:
    """Step 3: how many outputs are saturated, and how many sigmoid outputs tie."""
    end = m.saturation_at_end
    return (
        f"After training at learning rate {end['learning_rate']:g}, {figure(end['softmax_saturated'], '.1%')} of the training "
        f"images have a largest softmax probability above {SATURATED_PROBABILITY:g}, and "
        f"{figure(end['sigmoid_ties'], '.1%')} have two or more "
        "sigmoid outputs tied at exactly 1.0: there argmax returns the lowest tied class, whatever the logits say."
    )


def scaling(m: Mechanism) -> str:
    """Step 4: the weights, and the loss, scale with the learning rate."""
    final = m.final_sgd_scaling
    collapse = "they collapse onto one curve" if m.collapses else "they do **not** collapse onto one curve in this setup"
    adaptive = ", ".join(f"{OPTIMIZER_NAMES[row['optimizer']]} {figure(row['norm_ratio'], '.3f')}" for row in m.adaptive_scaling)
    return (
        f"With SGD, after the last epoch the weights at the higher rate are {figure(final['norm_ratio'], '.3f')} times "
        f"larger for a rate ratio of {final['lr_ratio']:.3f}, point the same way (cosine {figure(final['cosine'], '.3f')}) "
        f"and agree on {figure(final['agreement'], '.1%')} of test predictions. Divided by the learning rate, the losses of "
        f"runs over a {COLLAPSE_RANGE:g}x range of rates end {figure(m.collapse_spread, '.2f')}x apart: {collapse}. "
        f"RMSprop and Adam step by about lr × g / √v, which ignores the gradient's scale: their weight-norm ratios are "
        f"{adaptive}, " + ("proportional to the learning rate too." if m.adaptive_follow_lr else "**not** proportional here.")
    )


def artifact(m: Mechanism) -> str:
    """Step 5: what the reported accuracy is the accuracy of."""
    legacy_on, legacy_off, current = (m.artifact_run(name) for name in ARTIFACT_RUNS)
    same = "The same training loss" if m.same_artifact_loss else "**Different** training losses"
    both = m.reports("legacy_unrewritten", "predict_accuracy") and m.reports("current", "predict_accuracy")
    return (
        f"{same} in all three runs ({figure(legacy_on['loss'], '.6g')}). tf.keras 2 reports "
        f"{figure(legacy_on['reported_val_accuracy'], '.4f')}, which "
        f"{'is' if m.reports('legacy', 'logit_accuracy') else 'is not'} "
        f"the accuracy of the logits ({figure(legacy_on['logit_accuracy'], '.4f')}). With TensorFlow's arithmetic rewrite off "
        f"it reports {figure(legacy_off['reported_val_accuracy'], '.4f')}, and Keras 3 "
        f"{figure(current['reported_val_accuracy'], '.4f')}: {'both are' if both else 'not both are'} the accuracy of "
        f"argmax(model.predict) ({figure(current['predict_accuracy'], '.4f')}), where "
        f"{figure(current['tied_fraction'], '.1%')} of the test images have tied sigmoid outputs. "
        + (
            "So TensorFlow's graph optimizer rewrites argmax(sigmoid(z)) into argmax(z) inside tf.keras 2's compiled step. "
            "Keras 3's accuracy metric replaces negative zeros before its argmax (read in its source, not measured here), "
            "which blocks the rewrite."
            if m.rewrite_shown
            else "Here the rewrite switch does not decide the reported accuracy as it does on the question's setup."
        )
    )


def per_sample(m: Mechanism) -> str:
    """Step 6: where the loss comes from, image by image."""
    low, high = m.per_sample
    growth, lr_ratio = m.margin_growth
    return (
        f"At learning rate {low['learning_rate']:g} the {figure(low['misclassified'], '.1%')} misclassified test images carry "
        f"{figure(low['loss_share_of_misclassified'], '.4%')} of the loss, with a median margin max(z) - z(label) of "
        f"{figure(low['median_margin_misclassified'], '.4g')}; at {high['learning_rate']:g} that median is "
        f"{figure(high['median_margin_misclassified'], '.4g')}, {figure(growth, '.2f')}x larger for a {figure(lr_ratio, '.2f')}x "
        f"learning rate. The images classified correctly contribute a mean loss of {figure(low['mean_loss_correct'], '.2g')}."
    )

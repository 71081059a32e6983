"""Why: the mechanism step by step, each claim beside the measurement that supports or refutes it."""

import streamlit as st

from explainer import charts, mechanism
from explainer.labels import figure
from ui.runs import measured_mechanism

view = st.session_state.view
config, (low, high) = view.config, view.learning_rates
st.title("Why the loss follows the learning rate")
st.markdown(f"Measured on the sidebar's setup ({config.label()}), from the same cached runs as the other pages.")
m = measured_mechanism(view)

st.header("1. Keras computes the loss on the logits")
st.dataframe(m.loss_paths, hide_index=True)
path = m.loss_paths[0]
st.markdown(
    f"On the first training batch with the final weights (lr {low:g}), Keras reports {figure(path['keras'], '.6g')}; the closest "
    f"candidate is **{path['closest']}** (relative gap {figure(path['relative_gap'], '.1e')}). Cross-entropy on clipped "
    "probabilities "
    f"can never exceed -log(1e-7) = {figure(mechanism.PROBABILITY_LOSS_BOUND, '.2f')} per sample, and this value "
    + (
        "exceeds that bound: it cannot come from probabilities. "
        if m.keras_loss_exceeds_probability_bound
        else "is within that bound. "
    )
    + "Versions: "
    + ", ".join(f"{package} {version}" for package, version in m.versions.items())
    + "."
)

st.header("2. Every step moves the logits far")
inputs = m.inputs
st.dataframe(m.step_sizes, hide_index=True)
st.markdown(
    f"With these inputs an image has a mean squared norm ||x||^2 of {figure(inputs['mean_squared_norm'], '.3g')}, and two "
    "images a mean "
    f"dot product x.x' of {figure(inputs['mean_pair_dot'], '.3g')}. One SGD step of batch {config.batch_size} changes a "
    "logit by about "
    f"lr x x.x' / {config.batch_size} x (p - y): measured over the first {m.step_sizes[0]['steps']} steps, the largest logit of "
    f"an image moves by a median of "
    + " and ".join(f"{figure(row['median_largest_logit_move'], '.3g')} (lr {row['learning_rate']:g})" for row in m.step_sizes)
    + f" per step. A float32 sigmoid is exactly 1.0 from a logit of {figure(inputs['sigmoid_one_threshold'], '.2f')} on."
)

st.header("3. The outputs saturate")
end = m.saturation_at_end
st.altair_chart(
    charts.lines(m.saturation, "epoch", "softmax_saturated", "learning_rate", y_title="fraction with max softmax > 0.999")
    | charts.lines(m.saturation, "epoch", "sigmoid_ties", "learning_rate", y_title="fraction with tied sigmoid outputs")
)
st.markdown(
    f"After training at lr {low:g}, {figure(end['softmax_saturated'], '.1%')} of the training images have a largest softmax "
    f"probability above 0.999, and {figure(end['sigmoid_ties'], '.1%')} have two or more sigmoid outputs tied at their maximum "
    f"(1.0 in float32 once a logit passes {figure(inputs['sigmoid_one_threshold'], '.2f')}): "
    "there `argmax` returns the lowest tied index, whatever the logits say. "
    "Epoch 0 is the initialisation."
)

st.header("4. Saturated SGD is scale-equivariant")
st.altair_chart(
    charts.lines(m.scaling, "epoch", "norm_ratio", "optimizer", y_title="||W(high lr)|| / ||W(low lr)||")
    | charts.lines(m.collapse, "epoch", "loss_over_lr", "learning_rate", log_y=True, y_title="training loss / learning rate")
)
final = m.final_sgd_scaling
st.markdown(
    f"With SGD, after the last epoch ||W({high:g})|| / ||W({low:g})|| = **{figure(final['norm_ratio'], '.3f')}** for a "
    "learning-rate ratio "
    f"of {figure(final['lr_ratio'], '.3f')}; the two weight matrices have cosine similarity "
    f"{figure(final['cosine'], '.3f')} and agree on "
    f"{figure(final['agreement'], '.1%')} of test predictions. "
    f"Dividing the loss by the learning rate, runs {figure(m.collapse_spread, '.2f')}x apart at the last "
    f"epoch over a {mechanism.COLLAPSE_RANGE:g}x range of learning rates: "
    + ("they collapse onto one curve." if m.collapses else "they do **not** collapse onto one curve in this setup.")
)
st.dataframe(m.final_scaling, hide_index=True)
st.markdown(
    "RMSprop and Adam step by about lr x g / sqrt(v), which ignores the gradient's scale; measured, their weight-norm ratios are "
    + ", ".join(f"{row['optimizer']} {figure(row['norm_ratio'], '.3f')}" for row in m.adaptive_scaling)
    + (
        ": proportional to the learning rate too."
        if m.adaptive_follow_lr
        else ": **not** proportional to the learning rate here."
    )
)

st.header("5. The reported accuracy is an artifact")
st.dataframe(m.artifact, hide_index=True)
legacy_on, legacy_off, current = m.artifact
st.markdown(
    f"{'The same' if m.same_artifact_loss else '**Different**'} training loss in all three runs "
    f"({figure(legacy_on['loss'], '.6g')}, "
    f"{figure(legacy_off['loss'], '.6g')}, {figure(current['loss'], '.6g')}). tf.keras 2 "
    f"reports {figure(legacy_on['reported_val_accuracy'], '.4f')}, which "
    f"{'matches' if m.reports(0, 'logit_accuracy') else 'does not match'} argmax of the logits "
    f"({figure(legacy_on['logit_accuracy'], '.4f')}). With TensorFlow's arithmetic graph optimization switched off it reports "
    f"{figure(legacy_off['reported_val_accuracy'], '.4f')}, and Keras 3 reports "
    f"{figure(current['reported_val_accuracy'], '.4f')}: "
    f"{'both match' if m.reports(1, 'predict_accuracy') and m.reports(2, 'predict_accuracy') else 'not both matching'} "
    f"argmax(model.predict) ({figure(current['predict_accuracy'], '.4f')}), where "
    f"{figure(current['tied_fraction'], '.1%')} of test images have tied "
    "sigmoid outputs. "
    + (
        "So the graph optimizer rewrites argmax(sigmoid(z)) into argmax(z) inside tf.keras 2's compiled step, and the "
        "reported accuracy is that of the logits. Keras 3's accuracy metric replaces negative zeros before its argmax "
        "(read in its source, not measured here), which blocks the rewrite."
        if m.rewrite_shown
        else "Here the graph optimizer's switch does not decide the reported accuracy as it does on the question's setup."
    )
)

st.header("6. The misclassified samples carry the loss")
st.altair_chart(charts.histogram(m.histogram))
low_row, high_row = m.per_sample
margin_growth, lr_ratio = m.margin_growth
st.markdown(
    f"At lr {low:g}, the {figure(low_row['misclassified'], '.1%')} misclassified test images carry "
    f"{figure(low_row['loss_share_of_misclassified'], '.4%')} of the loss, with a median margin max(z) - z_label of "
    f"{figure(low_row['median_margin_misclassified'], '.4g')}; at lr {high:g} that median is "
    f"{figure(high_row['median_margin_misclassified'], '.4g')}, "
    f"{figure(margin_growth, '.2f')}x larger for a {figure(lr_ratio, '.2f')}x learning rate. "
    f"Correctly classified images contribute a mean loss of {figure(low_row['mean_loss_correct'], '.2g')}."
)

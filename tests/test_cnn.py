import numpy as np
import pytest

from ragalib import RagalibError
from ragalib.corpus import dataset
from ragalib.features import DEFAULT, FeatureConfig
from ragalib.models import cnn
from ragalib.models.bundle import load_bundle, save_bundle

FAST = cnn.TrainSettings(epochs=2, learning_rate=1e-3, normalize=True, seed=3)


def separable(n_per_class=24, seed=0):
    """Two classes of 216 x 13 'segments' with different means: trivially separable."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * n_per_class, 216, 13)).astype(np.float32)
    y = np.repeat([0, 1], n_per_class)
    X[y == 1] += 1.5
    take = np.arange(2 * n_per_class) // 4
    split = np.where(take % 6 == 0, "val", np.where(take % 6 == 1, "test", "train"))
    return dataset.Dataset(X=X, y=y, labels=["bhupali", "yaman"], take=take,
                           takes=[f"t{i}" for i in range(take.max() + 1)], split=split,
                           start=np.zeros(len(y)), config=DEFAULT, key="separable")


def test_the_published_network_has_its_layers_and_parameter_count():
    net = cnn.build_model((216, 13, 1), 10)
    kinds = [layer.__class__.__name__ for layer in net.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D",
                     "MaxPooling2D", "Flatten", "Dense", "Dense"]
    assert net.layers[5].output.shape[1:] == (27, 2, 32)      # 216x13 -> 108x7 -> 54x4 -> 27x2
    assert net.layers[6].output.shape[1:] == (1728,)
    assert net.count_params() == 125002   # 320 + 9248 + 4128 + 110656 + 650, worked by hand
    assert net.optimizer.learning_rate.numpy() == pytest.approx(1e-4)


def test_options_add_batch_norm_dropout_and_normalisation():
    settings = cnn.TrainSettings(batch_norm=True, dropout=0.3, normalize=True)
    kinds = [layer.__class__.__name__ for layer in cnn.build_model((216, 13, 1), 10, settings).layers]
    assert kinds.count("BatchNormalization") == 3 and "Dropout" in kinds
    assert kinds[0] == "Normalization"


def test_two_epochs_on_a_separable_set_beat_chance_and_repeat_exactly():
    ds = separable()
    net, history = cnn.train(ds, FAST)
    x, y = ds.part("test")
    result = cnn.evaluate(net, x, y, ds.labels)
    assert len(history["loss"]) == 2 and result["accuracy"] >= 0.9
    assert np.sum(result["confusion"]) == len(y)
    _, again = cnn.train(ds, FAST)
    assert again == history                                    # deterministic training


def test_a_bundle_round_trips_and_refuses_other_features(tmp_path):
    ds = separable()
    net, history = cnn.train(ds, FAST)
    folder = save_bundle(tmp_path / "bundle", net, labels=ds.labels, config=DEFAULT,
                               settings=FAST, metrics={"test_accuracy": 1.0}, history=history)
    bundle = load_bundle(folder, config=DEFAULT)
    x, _ = ds.part("test")
    np.testing.assert_allclose(cnn.predict(bundle.model, x), cnn.predict(net, x), atol=1e-6)
    assert bundle.labels == ["bhupali", "yaman"] and bundle.settings == FAST and bundle.config == DEFAULT
    assert bundle.metrics["test_accuracy"] == 1.0 and bundle.history == history
    with pytest.raises(RagalibError, match="n_mfcc 13 in the bundle but 20 offered"):
        load_bundle(folder, config=FeatureConfig(n_mfcc=20))
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]     # no temporary left


def test_saving_over_a_bundle_replaces_it_whole(tmp_path):
    ds = separable()
    net, _ = cnn.train(ds, FAST)
    folder = save_bundle(tmp_path / "b", net, labels=ds.labels, config=DEFAULT,
                               settings=FAST, metrics={"run": 1})
    save_bundle(folder, net, labels=ds.labels, config=DEFAULT, settings=FAST,
                      metrics={"run": 2})
    assert load_bundle(folder).metrics == {"run": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["b"]


def test_a_bundle_whose_labels_do_not_fit_the_model_is_refused(tmp_path):
    import json

    ds = separable()
    net, _ = cnn.train(ds, FAST)
    folder = save_bundle(tmp_path / "b", net, labels=ds.labels, config=DEFAULT,
                               settings=FAST)
    meta = json.loads((folder / "bundle.json").read_text())
    (folder / "bundle.json").write_text(json.dumps({**meta, "labels": ["bhupali", "kafi", "yaman"]}))
    with pytest.raises(RagalibError, match="2 outputs but the bundle names 3 labels"):
        load_bundle(folder)
    del meta["labels"]
    (folder / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(RagalibError, match="not a readable bundle description"):
        load_bundle(folder)


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "not a model bundle"),
    (lambda p: (p.mkdir(), (p / "bundle.json").write_text("{}"),
                (p / "model.keras").write_text("x")), "not a readable bundle description"),
    (lambda p: (p.mkdir(), (p / "bundle.json").write_text(
        '{"feature_config": ' + DEFAULT.to_json() + ', "labels": [], "training": {}}'),
        (p / "model.keras").write_text("not a model")), "damaged or truncated"),
])
def test_broken_bundles_are_clear_errors(tmp_path, make, message):
    make(tmp_path / "b")
    with pytest.raises(RagalibError, match=message):
        load_bundle(tmp_path / "b")


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:len(data) // 2], "damaged or truncated, not a whole .keras archive"),
    (lambda data: data[:1000] + bytes(b ^ 0xFF for b in data[1000:3000]) + data[3000:],
     "damaged"),
])
def test_a_damaged_model_file_is_named_as_such_not_as_missing(tmp_path, damage, message):
    ds = separable()
    net, _ = cnn.train(ds, FAST)
    folder = save_bundle(tmp_path / "b", net, labels=ds.labels, config=DEFAULT,
                               settings=FAST)
    path = folder / "model.keras"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(RagalibError, match=message) as caught:
        load_bundle(folder)
    assert "not found" not in str(caught.value)


def test_an_interrupted_training_run_leaves_nothing_a_later_run_trusts(tmp_path):
    """A run killed half way (as a killed kernel or Ctrl-C twice would) leaves no bundle
    under its name; the next run trains afresh and leaves a complete one."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "RAGALIB_DATA": str(tmp_path / "data"), "RAGALIB_WORKERS": "1"}
    out = tmp_path / "models" / "mfcc"
    command = [sys.executable, "-m", "ragalib", "train", "--quick", "--out", str(out)]
    run = subprocess.Popen(command + ["--epochs", "500"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        datasets = tmp_path / "data" / "quick" / "datasets"
        deadline = time.monotonic() + 240
        while not list(datasets.glob("*.npz")) and run.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(5.0)                                  # into the 500 epochs
        assert run.poll() is None, "the run ended before it could be interrupted"
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=30)
    assert not out.exists()
    with pytest.raises(RagalibError, match="not a model bundle"):
        load_bundle(out)
    again = subprocess.run(command + ["--epochs", "1"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert load_bundle(out).settings.epochs == 1

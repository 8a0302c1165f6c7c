"""`densenet-explorer` (or `python -m densenet_demo`) summary|train|evaluate|calibrate|predict|
serve: thin argparse edges over the package."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import typing
from pathlib import Path

from .architecture.config import DenseNetConfig, check_integer, parse_int_list
from .architecture.controls import CONTROLS, MEMORY_CONTROLS, Control
from .architecture.presets import PRESETS
from .architecture.share import file_stem, read_config
from .inference.card import card_path
from .inference.imagenet import FOLDER_VARIABLE
from .training.budget import BUDGET_CONTROLS, Budget
from .training.calibration import DEFAULT_FLAG_RATE
from .training.trainer import TrainSettings


def _int_list(field: str):
    """An argparse type: '6,12,24,16' -> (6, 12, 24, 16), refused naming `field`."""

    def parse(text: str) -> tuple[int, ...]:
        try:
            return parse_int_list(field, text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _integer(field: str, low: int):
    """An argparse type: a whole number of at least `low`, refused (`check_integer`) naming
    `field`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = text
        try:
            return check_integer(field, value, low)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _choice_values(control: Control) -> tuple:
    return tuple(choice[1] if isinstance(choice, tuple) else choice for choice in control.choices)


def _described(control: Control) -> str:
    """An option's help: the control's label, information and labelled menu, as the page
    shows them."""
    menu = [choice[0] for choice in control.choices if isinstance(choice, tuple)]
    return (
        control.label
        + (f": {control.info}" if control.info else "")
        + (f" (menu: {'; '.join(menu)})" if menu and not isinstance(control.default, str) else "")
    )


def _add_control(parser, control: Control, flags: list[str], default, help: str, **kind) -> None:
    """An option for a control that is not a config field (the memory estimate's, the
    training budget's): text choices are the control's, a typed-in number is a float, any
    other value has the default's type."""
    if isinstance(control.default, str):
        kind.setdefault("choices", _choice_values(control))
    elif "type" not in kind:
        kind["type"] = float if control.custom_value else type(control.default)
    parser.add_argument(*flags, default=default, help=help, **kind)


def _config_option(field: str) -> dict:
    """argparse's arguments for the option of a `DenseNetConfig` field, from its type hint and
    the controls that feed it."""
    hint = typing.get_type_hints(DenseNetConfig)[field]
    kind = next(arg for arg in typing.get_args(hint) or (hint,) if arg is not type(None))
    controls = [control for control in CONTROLS if control.field == field]
    label = ", ".join(_described(control) for control in controls)
    if typing.get_origin(hint) is tuple:
        example = ",".join(map(str, getattr(DenseNetConfig(), field)))
        return {"type": _int_list(field), "metavar": "N,N,...", "help": f"{label} (e.g. {example})"}
    if kind is bool:
        return {"action": argparse.BooleanOptionalAction, "default": None, "help": label}
    if kind is str:
        return {"choices": _choice_values(controls[0]), "help": label}
    return {"type": kind, "metavar": "N" if kind is int else "X", "help": label}


def _add_config_options(parser: argparse.ArgumentParser, default_preset: str) -> None:
    """The architecture's options, one per `DenseNetConfig` field, described as the Explore
    controls that feed it (`CONTROLS`)."""
    group = parser.add_argument_group(
        "architecture (each option replaces the preset's value; see DenseNetConfig)"
    )
    [preset] = [control for control in CONTROLS if control.name == "preset"]
    group.add_argument(
        "--preset",
        choices=sorted(_choice_values(preset)),
        default=default_preset,
        help=f"{preset.label}: the DenseNet to start from (default {default_preset})",
    )
    group.add_argument(
        "--config",
        metavar="FILE|JSON|LINK",
        help="a whole configuration instead of a preset: a JSON file (the Explore tab's "
        "download), a JSON object of DenseNetConfig fields, or a share link or its query string",
    )
    for field in dataclasses.fields(DenseNetConfig):
        group.add_argument(f"--{field.name.replace('_', '-')}", **_config_option(field.name))


def config_from_args(args: argparse.Namespace) -> DenseNetConfig:
    """`--config` (else the preset) with every given option replaced (validated like any
    config)."""
    overrides = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(DenseNetConfig)
        if getattr(args, field.name, None) is not None
    }
    if overrides.get("transition_features") == 0:  # as on the page: 0 means use θ
        overrides["transition_features"] = None
    return dataclasses.replace(_base_config(args), **overrides)


def _base_config(args: argparse.Namespace) -> DenseNetConfig:
    """The configuration the options change: `--config` (a JSON file, JSON text, a share link
    or its query string), else `--preset`."""
    if args.config is None:
        return PRESETS[args.preset]
    value = args.config
    if not value.lstrip().startswith("{") and "=" not in value:  # neither JSON nor a query
        path = Path(value)
        if not path.is_file():
            raise ValueError(
                f"--config {value!r} is not a file, JSON or a share link: give a JSON file "
                "(e.g. the Explore tab's download), a JSON object or a link"
            )
        value = path.read_text(encoding="utf-8")
    return read_config(value, "--config")


def _summary(args: argparse.Namespace) -> None:
    from .architecture.controls import check_memory
    from .architecture.report import (
        headline,
        layer_table,
        stage_table,
        summary_record,
        text_table,
    )
    from .architecture.summary import summarize
    from .architecture.training_memory import MEMORY_ACCOUNT

    config = config_from_args(args)
    summary = summarize(config)
    memory = check_memory(args.batch_size, args.optimizer, args.memory_gib)
    if args.json:
        print(json.dumps(summary_record(summary, *memory), indent=1))
        return
    print(f"{file_stem(config)}: {config}\n")
    for label, value in headline(summary, *memory):
        print(f"{label}: {value}")
    print(f"\n{summary.activation_memory(memory.batch_size).reason}\n{MEMORY_ACCOUNT}\n")
    print(text_table(*stage_table(summary)))
    if args.layers:
        print()
        print(text_table(*layer_table(summary)))


def _train(args: argparse.Namespace) -> None:
    from .inference.card import ModelCard
    from .training.budget import fit_to_data
    from .training.distribute import distribution_strategy, is_chief, wait_for_every_worker
    from .training.export import export
    from .training.trainer import DEFAULT_RUN_DIR, train

    given = config_from_args(args)
    config = fit_to_data(given)
    if config != given:
        print(
            f"training on Fashion-MNIST: input {'x'.join(map(str, config.input_shape))} and "
            f"{config.num_classes} classes in place of the configuration's"
        )
    settings = TrainSettings(
        name=args.name or (file_stem(config) if args.config else args.preset),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        train_images=args.train_images or None,  # (0: all, as --train-limit 0 was)
        xla=args.xla,
        fused_batch_norm=args.fused_batch_norm,
        validation_size=args.validation_size,
    )
    run_dir = args.run_dir or DEFAULT_RUN_DIR / settings.name
    with _native_logs_silenced():
        import tensorflow  # noqa: F401 - its start-up logs dropped; training's own are kept
    model, meta = train(config, settings, run_dir, data_dir=args.data_dir, resume=args.resume)
    strategy = distribution_strategy()
    if is_chief(strategy):
        path = export(model, config, settings, meta, args.weights_dir, data_dir=args.data_dir)
        card_file = card_path(args.weights_dir, settings.name)
        print(f"wrote {path} and {card_file}")
        card = ModelCard.read(card_file)
        mirror = card.mirror_average
        print(
            f"validation accuracy {mirror.accuracy_alone:.2%} alone, "
            f"{mirror.accuracy_averaged:.2%} averaged with the mirror image: test accuracy "
            f"{card.test_accuracy:.2%} on {card.test_images:,} images, predicted "
            f"{'with' if mirror.used else 'without'} it"
        )
    else:
        print("trained as a worker of a multi-machine run: the chief exports the model")
    wait_for_every_worker(strategy)


def _trained_model(args: argparse.Namespace):
    """(name, the loaded classifier) of `args.model`: a name in --weights-dir (else the shipped
    weights/), or a .weights.h5 file with its card beside it."""
    from .inference.classifier import load_classifier

    path = Path(args.model)
    if path.suffix == ".h5":
        name, weights_dir = path.name.removesuffix(".weights.h5"), path.parent
    else:
        name, weights_dir = args.model, args.weights_dir
    with _native_logs_silenced():
        return name, load_classifier(name, weights_dir)


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from .training.data import load_fashion_mnist

    name, classifier = _trained_model(args)
    claimed = classifier.card.test_accuracy
    if claimed is None:
        raise ValueError(
            f"{name} has no Fashion-MNIST test accuracy on its card to check: "
            "evaluate takes a model this project trained"
        )
    test = load_fashion_mnist(args.data_dir)["test"]
    predicted = classifier.predict_batch(test.images).argmax(axis=1)
    accuracy = float(np.mean(predicted == test.labels))
    matches = abs(accuracy - claimed) < 0.5 / len(test.labels)  # the same count of hits
    print(
        f"{name}: test accuracy {accuracy:.4%} on {len(test.labels):,} images; the card says "
        f"{claimed:.4%}: {'matches' if matches else 'DOES NOT MATCH'}"
    )
    if matches and args.write_mistakes:
        from .training.export import write_mistakes

        written = write_mistakes(
            classifier.model, classifier.weights_path.parent, name, args.data_dir
        )
        print(f"wrote {written} and named it in {card_path(written.parent, name)}")
    if args.as_photos:
        from .training.calibration import classes_as_photos

        seen_as_photos = classes_as_photos(classifier, test.images)
        print(
            f"as photos (dark on light, RGB, 224 px, through the upload path): test accuracy "
            f"{np.mean(seen_as_photos == test.labels):.2%}; the same class as the array for "
            f"{np.mean(seen_as_photos == predicted):.2%}"
        )
    return 0 if matches else 1


def _calibrate(args: argparse.Namespace) -> None:
    from .training.calibration import calibrate

    name, classifier = _trained_model(args)
    folder = classifier.weights_path.parent
    check = calibrate(classifier, folder / f"{name}.domain.npz", args.data_dir, args.flag_rate)
    dataclasses.replace(classifier.card, domain_check=check).write(card_path(folder, name))
    print(
        f"{name}: flagged above a feature distance of {check.threshold:.1f}; "
        f"{check.clothing_flagged:.1%} of {check.validation_images:,} held-out clothing "
        f"images flagged, {check.photos_flagged:.1%} of them shown as photos"
    )
    for kind, share in check.caught.items():
        print(f"  {share:6.1%} of {kind} caught")
    print(f"wrote {folder / check.statistics_file} and {card_path(folder, name)}")


def _convert(args: argparse.Namespace) -> None:
    from .training.export import prepare_for_serving

    name, classifier = _trained_model(args)
    with _native_logs_silenced():
        path = prepare_for_serving(classifier)
    print(
        f"wrote {path} and named it in {card_path(path.parent, name)}: the app serves it "
        "without TensorFlow"
    )


def _predict(args: argparse.Namespace) -> None:
    from .inference.classifier import load_classifier
    from .inference.image_file import open_image
    from .inference.service import ClassifyService

    image = open_image(args.image)  # an unreadable file is refused before the model loads
    with _native_logs_silenced():
        classifier = load_classifier(args.model, args.weights_dir)
    # The server's path: the same classes, and the same check of the model's domain.
    prediction = ClassifyService(classifier).classify(image, args.top_k)
    for label, probability in prediction.top:
        print(f"{probability:8.2%}  {label}")
    if prediction.out_of_domain:
        note = classifier.card.domain_check.sentence(
            "--model densenet121 (an ImageNet model) knows 1,000 kinds of things"
        )
        print(f"warning: {note}", file=sys.stderr)


def _serve(args: argparse.Namespace) -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from .ui.page import serve

    serve()


def _add_trained_model_options(parser: argparse.ArgumentParser, data: bool = True) -> None:
    """The model a command reads (`_trained_model`) and, if it needs one, where the data set
    is."""
    parser.add_argument(
        "model",
        nargs="?",
        default="fashion",
        help="a model name in --weights-dir, or a .weights.h5 file",
    )
    parser.add_argument(
        "--weights-dir",
        type=Path,
        default=None,
        help="folder with the model's card (default: the shipped weights/)",
    )
    if data:
        parser.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="densenet-explorer",
        description="DenseNet Explorer: analyse, train, evaluate and use DenseNets "
        "(also: python -m densenet_demo)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summary", help="print the analytic summary of a DenseNet")
    _add_config_options(summary, "densenet121")
    for control in MEMORY_CONTROLS:  # checked together by check_memory
        flags = [f"--{control.name.replace('_', '-')}"]
        _add_control(summary, control, flags, control.default, _described(control))
    summary.add_argument("--layers", action="store_true", help="also print every layer")
    summary.add_argument("--json", action="store_true", help="print JSON instead of text")
    summary.set_defaults(handler=_summary)

    train = commands.add_parser("train", help="train on Fashion-MNIST and write weights/")
    _add_config_options(train, "fashion")
    train.add_argument(
        "--name",
        help="weights/<name>.weights.h5 (default: the preset's name; with --config, the "
        "preset it equals, else densenet-custom)",
    )
    # The budget's inputs as the Train tab describes them, with the trainer's defaults (a full
    # run) in place of the tab's (a quick one).
    for control, field in zip(BUDGET_CONTROLS, Budget._fields, strict=True):
        default = getattr(TrainSettings, field)
        flags = [f"--{field.replace('_', '-')}"]
        low = 1
        if field == "train_images":  # None: all; --train-limit, its old name, took 0 for all
            flags, low = [*flags, "--train-limit"], 0
        kind = {"type": _integer(field, low)} if isinstance(control.default, int) else {}
        help = f"{_described(control)} (default: {'all' if default is None else default})"
        _add_control(train, control, flags, default, help, **kind)
    train.add_argument(
        "--seed",
        type=_integer("seed", 0),
        default=TrainSettings.seed,
        help="the random seed: held-out images, data order, initial weights and augmentation",
    )
    train.add_argument(
        "--xla",
        action=argparse.BooleanOptionalAction,
        default=TrainSettings.xla,
        help="compile the train step with XLA (no faster with the fused BatchNormalization)",
    )
    train.add_argument(
        "--fused-batch-norm",
        action=argparse.BooleanOptionalAction,
        default=TrainSettings.fused_batch_norm,
        help="train each BatchNormalization as one op (1.8x faster on the fashion preset "
        "here; the same training up to rounding, so a run may resume with the other choice)",
    )
    train.add_argument(
        "--validation-size",
        type=_integer("validation_size", 1),
        default=TrainSettings.validation_size,
        help="training images held out for validation (never the test set)",
    )
    train.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")
    train.add_argument("--run-dir", type=Path, help="checkpoint folder (default ~/.cache/...)")
    train.add_argument("--weights-dir", type=Path, default=Path("weights"))
    train.add_argument("--resume", action="store_true", help="continue the checkpoint in --run-dir")
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser(
        "evaluate", help="recompute a model's test accuracy and compare it with its model card"
    )
    _add_trained_model_options(evaluate)
    evaluate.add_argument(
        "--write-mistakes",
        action="store_true",
        help="also (re)write <name>.mistakes.npz, the misclassified test "
        "images the app's Model tab shows, and name it in the card",
    )
    evaluate.add_argument(
        "--as-photos",
        action="store_true",
        help="also classify every test image as a photo shows it (dark on light, RGB, "
        "224 px) through the upload path, and print that accuracy",
    )
    evaluate.set_defaults(handler=_evaluate)

    calibrate = commands.add_parser(
        "calibrate",
        help="choose the threshold below which the app says an upload does not look like "
        "clothing (on validation images), measure it and write it to the model card",
    )
    _add_trained_model_options(calibrate)
    calibrate.add_argument(
        "--flag-rate",
        type=float,
        default=DEFAULT_FLAG_RATE,
        help="share of the held-out clothing images allowed below the threshold",
    )
    calibrate.set_defaults(handler=_calibrate)

    convert = commands.add_parser(
        "convert",
        help="write <name>.tflite (the model converted to LiteRT) and its feature reuse, and "
        "name them in the card, so that the app serves the model without TensorFlow "
        "(train does this itself)",
    )
    _add_trained_model_options(convert, data=False)
    convert.set_defaults(handler=_convert)

    serve = commands.add_parser(
        "serve",
        help="serve the app (as python app.py does): http://127.0.0.1:7860 unless "
        "GRADIO_SERVER_NAME and GRADIO_SERVER_PORT say otherwise",
    )
    serve.set_defaults(handler=_serve)

    predict = commands.add_parser(
        "predict", help="classify one picture with the Fashion-MNIST model or an ImageNet DenseNet"
    )
    predict.add_argument("image", help="a PNG, JPEG, WebP, GIF or BMP file")
    predict.add_argument(
        "--model",
        default="fashion",
        help="fashion (default), densenet121, densenet169, densenet201, or "
        "another model trained into --weights-dir",
    )
    predict.add_argument(
        "--top-k",
        type=_integer("top_k", 1),
        default=5,
        help="how many classes to print (checked before the model loads)",
    )
    predict.add_argument(
        "--weights-dir",
        type=Path,
        default=os.environ.get(FOLDER_VARIABLE) or None,
        help="folder with model cards and/or Keras' ImageNet weight files "
        f"under their published names (default: ${FOLDER_VARIABLE}, "
        "then weights/ and Keras' cache or a download)",
    )
    predict.set_defaults(handler=_predict)
    return parser


@contextlib.contextmanager
def _native_logs_silenced():
    """Send what C++ libraries write to the process's stderr (file descriptor 2) to /dev/null.

    TensorFlow 2.21 logs a screenful of INFO lines through Abseil before Abseil is
    initialised, and those ignore TF_CPP_MIN_LOG_LEVEL (an Abseil defect: abseil-cpp pull
    request 1957). Python's own messages are written after this returns.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(null)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `summary --layers | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0

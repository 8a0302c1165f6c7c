"""`python -m densenet_demo summary|train|evaluate|predict`: thin argparse edges over the
package."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from .architecture.config import (
    CLASSIFIER_ACTIVATIONS,
    STEMS,
    STYLES,
    DenseNetConfig,
    parse_int_list,
)
from .architecture.presets import PRESETS
from .architecture.summary import DEFAULT_BATCH_SIZE


def _int_list(field: str):
    """An argparse type: '6,12,24,16' -> (6, 12, 24, 16), refused naming `field`."""

    def parse(text: str) -> tuple[int, ...]:
        try:
            return parse_int_list(field, text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _add_config_options(parser: argparse.ArgumentParser, default_preset: str) -> None:
    group = parser.add_argument_group("architecture (overrides the preset)")
    group.add_argument("--preset", choices=sorted(PRESETS), default=default_preset)
    group.add_argument("--input-shape", type=_int_list("input_shape"), metavar="H,W,C")
    group.add_argument("--num-classes", type=int)
    group.add_argument("--growth-rate", type=int)
    group.add_argument("--block-layers", type=_int_list("block_layers"), metavar="L1,L2,...")
    group.add_argument("--bottleneck", action=argparse.BooleanOptionalAction, default=None)
    group.add_argument("--bn-size", type=int)
    group.add_argument("--compression", type=float)
    group.add_argument("--init-features", type=int)
    group.add_argument("--stem", choices=STEMS)
    group.add_argument("--dropout-rate", type=float)
    group.add_argument("--classifier-activation", choices=CLASSIFIER_ACTIVATIONS)
    group.add_argument("--style", choices=STYLES)
    group.add_argument("--transition-features", type=int)


def config_from_args(args: argparse.Namespace) -> DenseNetConfig:
    """The preset with every given option replaced (validated like any config)."""
    overrides = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(DenseNetConfig)
        if getattr(args, field.name, None) is not None
    }
    return dataclasses.replace(PRESETS[args.preset], **overrides)


def _summary(args: argparse.Namespace) -> None:
    from .architecture.report import headline, layer_table, stage_table, text_table
    from .architecture.summary import summarize

    config = config_from_args(args)
    summary = summarize(config)
    if args.json:
        memory = summary.activation_memory(args.batch_size)
        print(
            json.dumps(
                {
                    "config": config.to_dict(),
                    "depth": summary.depth,
                    "total_params": summary.total_params,
                    "trainable_params": summary.trainable_params,
                    "non_trainable_params": summary.non_trainable_params,
                    "macs": summary.macs,
                    "memory": memory._asdict(),
                },
                indent=1,
            )
        )
        return
    print(f"{args.preset} with {config}\n")
    for label, value in headline(summary, args.batch_size):
        print(f"{label}: {value}")
    print(f"\n{summary.activation_memory(args.batch_size).reason}\n")
    print(text_table(*stage_table(summary)))
    if args.layers:
        print()
        print(text_table(*layer_table(summary)))


def _train(args: argparse.Namespace) -> None:
    from .training.export import export
    from .training.trainer import DEFAULT_RUN_DIR, TrainSettings, train

    config = config_from_args(args)
    settings = TrainSettings(
        name=args.name or args.preset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        train_limit=args.train_limit,
        validation_size=args.validation_size,
    )
    run_dir = args.run_dir or DEFAULT_RUN_DIR / settings.name
    model, meta = train(config, settings, run_dir, data_dir=args.data_dir, resume=args.resume)
    path = export(model, config, settings, meta, args.weights_dir, data_dir=args.data_dir)
    print(f"wrote {path} and {path.with_name(settings.name + '.json')}")


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from .inference.classifier import WEIGHTS_DIR, load_classifier
    from .training.data import load_fashion_mnist

    path = Path(args.model)
    if path.suffix == ".h5":  # a weights file: its card sits beside it
        name, weights_dir = path.name.removesuffix(".weights.h5"), path.parent
    else:
        name, weights_dir = args.model, args.weights_dir
    classifier = load_classifier(name, weights_dir)
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

        written = write_mistakes(classifier.model, weights_dir or WEIGHTS_DIR, name, args.data_dir)
        print(f"wrote {written} and named it in {name}.json")
    return 0 if matches else 1


def _predict(args: argparse.Namespace) -> None:
    from .inference.classifier import load_classifier
    from .inference.image_file import open_image

    image = open_image(args.image)  # an unreadable file is refused before the model loads
    classifier = load_classifier(args.model, args.weights_dir)
    for label, probability in classifier.predict(image, args.top_k):
        print(f"{probability:8.2%}  {label}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m densenet_demo", description="DenseNet Explorer command line"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summary", help="print the analytic summary of a DenseNet")
    _add_config_options(summary, "densenet121")
    summary.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help="batch size for the activation-memory estimate",
    )
    summary.add_argument("--layers", action="store_true", help="also print every layer")
    summary.add_argument("--json", action="store_true", help="print JSON instead of text")
    summary.set_defaults(handler=_summary)

    train = commands.add_parser("train", help="train on Fashion-MNIST and write weights/")
    _add_config_options(train, "fashion")
    train.add_argument("--name", help="weights/<name>.weights.h5 (default: the preset name)")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--train-limit", type=int, default=0, help="use only this many training images (quick runs)"
    )
    train.add_argument(
        "--validation-size",
        type=int,
        default=5000,
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
    evaluate.add_argument(
        "model",
        nargs="?",
        default="fashion",
        help="a model name in --weights-dir, or a .weights.h5 file",
    )
    evaluate.add_argument("--weights-dir", type=Path, default=None)
    evaluate.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")
    evaluate.add_argument(
        "--write-mistakes",
        action="store_true",
        help="also (re)write <name>.mistakes.npz, the misclassified test "
        "images the app's Model tab shows, and name it in the card",
    )
    evaluate.set_defaults(handler=_evaluate)

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
    predict.add_argument("--top-k", type=int, default=5, help="how many classes to print")
    predict.add_argument(
        "--weights-dir",
        type=Path,
        default=os.environ.get("DENSENET_WEIGHTS_DIR") or None,
        help="folder with model cards and/or Keras' ImageNet weight files "
        "under their published names (default: $DENSENET_WEIGHTS_DIR, "
        "then weights/ and Keras' cache or a download)",
    )
    predict.set_defaults(handler=_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

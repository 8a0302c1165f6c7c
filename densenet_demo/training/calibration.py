"""Fit the out-of-domain check of a trained model, choose its threshold, measure it.

The class means and shared covariance of the pooled features are fitted on training images;
the threshold is the (1 - `flag_rate`) quantile of the feature distance on the validation
images held out of training (the test set is never used): about that share of clothing gets
flagged. It is then measured on pictures that are not clothing, made here from nothing
(nothing is downloaded): noise, colour gradients like a sky, drawn shapes, text, digits and
cartoon faces, each passed through the same upload path as a person's picture.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..files import write_atomically
from ..inference.card import DomainCheck
from ..inference.classifier import Classifier
from ..inference.domain import FeatureStatistics
from .data import Split, load_fashion_mnist, train_validation_split

DEFAULT_FLAG_RATE = 0.05
PICTURES_PER_KIND = 200
FIT_IMAGES = 20_000  # training images the class means and covariance are fitted on


def _noise(rng: np.random.Generator) -> Image.Image:
    side = int(rng.integers(28, 257))
    return Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))


def _gradient(rng: np.random.Generator) -> Image.Image:
    """A sky or a sunset: two colours blended along a random direction."""
    height, width = (int(side) for side in rng.integers(64, 257, 2))
    angle = rng.uniform(0, 2 * np.pi)
    rows, cols = np.mgrid[0:height, 0:width]
    along = rows * np.sin(angle) + cols * np.cos(angle)
    along = (along - along.min()) / max(float(np.ptp(along)), 1.0)
    start, end = rng.integers(0, 256, (2, 3))
    pixels = start + along[..., None] * (end - start)
    return Image.fromarray(pixels.astype(np.uint8))


def _canvas(rng: np.random.Generator) -> tuple[Image.Image, ImageDraw.ImageDraw, int]:
    side = int(rng.integers(96, 257))
    image = Image.new("RGB", (side, side), tuple(int(c) for c in rng.integers(0, 256, 3)))
    return image, ImageDraw.Draw(image), side


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))


def _shapes(rng: np.random.Generator) -> Image.Image:
    image, draw, side = _canvas(rng)
    for _ in range(int(rng.integers(1, 4))):
        x0, y0 = (int(v) for v in rng.integers(0, side // 2, 2))
        x1, y1 = (int(v) for v in rng.integers(side // 2, side, 2))
        kind = rng.integers(0, 3)
        if kind == 0:
            draw.ellipse((x0, y0, x1, y1), fill=_colour(rng))
        elif kind == 1:
            draw.rectangle((x0, y0, x1, y1), fill=_colour(rng))
        else:
            draw.polygon([(x0, y1), (x1, y1), ((x0 + x1) // 2, y0)], fill=_colour(rng))
    return image


def _font(rng: np.random.Generator, side: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=int(side * rng.uniform(0.15, 0.6)))


def _text(rng: np.random.Generator) -> Image.Image:
    image, draw, side = _canvas(rng)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    word = "".join(rng.choice(list(letters), int(rng.integers(2, 7))))
    draw.text((side * 0.05, side * 0.3), word, fill=_colour(rng), font=_font(rng, side))
    return image


def _digit(rng: np.random.Generator) -> Image.Image:
    image, draw, side = _canvas(rng)
    draw.text(
        (side * 0.3, side * 0.1),
        str(rng.integers(0, 10)),
        fill=_colour(rng),
        font=ImageFont.load_default(size=int(side * rng.uniform(0.5, 0.8))),
    )
    return image


def _face(rng: np.random.Generator) -> Image.Image:
    """A cartoon face: a disc, two eyes and a mouth."""
    image, draw, side = _canvas(rng)
    margin = side * rng.uniform(0.05, 0.2)
    draw.ellipse((margin, margin, side - margin, side - margin), fill=_colour(rng))
    eye, ink = side * 0.06, _colour(rng)
    for x in (0.35, 0.65):
        draw.ellipse((side * x - eye, side * 0.4 - eye, side * x + eye, side * 0.4 + eye), fill=ink)
    draw.arc(
        (side * 0.3, side * 0.45, side * 0.7, side * 0.75),
        20,
        160,
        fill=ink,
        width=max(1, side // 40),
    )
    return image


NON_CLOTHING = {
    "noise": _noise,
    "gradients (skies)": _gradient,
    "shapes": _shapes,
    "text": _text,
    "digits": _digit,
    "cartoon faces": _face,
}


def non_clothing(kind: str, count: int = PICTURES_PER_KIND, seed: int = 0) -> list[Image.Image]:
    """`count` pictures of one kind of `NON_CLOTHING`, the same for the same seed."""
    rng = np.random.default_rng([seed, list(NON_CLOTHING).index(kind)])
    return [NON_CLOTHING[kind](rng) for _ in range(count)]


def as_photo(image: np.ndarray) -> Image.Image:
    """A Fashion-MNIST image as a person's photo might show it: dark item on a light
    background, RGB, enlarged."""
    grey = Image.fromarray(255 - image).resize((224, 224), Image.Resampling.BICUBIC)
    return Image.merge("RGB", (grey, grey, grey))


def classes_as_photos(classifier: Classifier, images: np.ndarray) -> np.ndarray:
    """The class the model names for each Fashion-MNIST image shown as a photo
    (`as_photo`), through the upload path: how much of its accuracy survives the way people's
    pictures reach it."""
    photos = [as_photo(image) for image in images]
    return classifier.predict_batch(_uploaded(classifier, photos)).argmax(axis=1)


def features_of(classifier: Classifier, pictures: list[Image.Image]) -> np.ndarray:
    """The pooled features of each picture, through the upload path."""
    return classifier.features_batch(_uploaded(classifier, pictures))


def _uploaded(classifier: Classifier, pictures: list[Image.Image]) -> np.ndarray:
    """The model inputs of `pictures` as uploads, stacked into one batch."""
    return np.stack([classifier.model_input(picture) for picture in pictures])


def _splits(classifier: Classifier, data_dir: str | None) -> tuple[Split, Split]:
    """(the training images, the validation images) of the model's run (its card's seed and
    held-out size)."""
    settings = classifier.card.settings or {}
    if "validation_size" not in settings or classifier.card.seed is None:
        raise ValueError(
            f"{classifier.card.name}'s card does not say which images its training "
            "held out: calibrate takes a model this project trained"
        )
    train = load_fashion_mnist(data_dir)["train"]
    return train_validation_split(train, settings["validation_size"], classifier.card.seed)


def calibrate(
    classifier: Classifier,
    statistics_path: Path,
    data_dir: str | None = None,
    flag_rate: float = DEFAULT_FLAG_RATE,
    count: int = PICTURES_PER_KIND,
    fit_images: int = FIT_IMAGES,
) -> DomainCheck:
    """Fit the class statistics on training images, write them (atomically) to
    `statistics_path`, choose the threshold on the validation images and measure it."""
    if not 0 < flag_rate < 1:
        raise ValueError(f"flag_rate={flag_rate!r} is invalid: allowed a number between 0 and 1")
    train, validation = _splits(classifier, data_dir)
    statistics = FeatureStatistics.fit(
        classifier.features_batch(train.images[:fit_images]), train.labels[:fit_images]
    )
    clothing = statistics.distances(classifier.features_batch(validation.images))
    threshold = float(np.quantile(clothing, 1 - flag_rate))
    caught = {
        kind: float(
            np.mean(
                statistics.distances(features_of(classifier, non_clothing(kind, count))) > threshold
            )
        )
        for kind in NON_CLOTHING
    }
    photos = [as_photo(image) for image in validation.images[: count * len(NON_CLOTHING)]]
    photos_flagged = float(
        np.mean(statistics.distances(features_of(classifier, photos)) > threshold)
    )
    data = statistics.to_bytes()
    write_atomically(statistics_path, data)
    return DomainCheck(
        threshold=threshold,
        validation_images=len(validation.labels),
        clothing_flagged=float(np.mean(clothing > threshold)),
        photos_flagged=photos_flagged,
        caught=caught,
        statistics_file=Path(statistics_path).name,
        statistics_sha256=hashlib.sha256(data).hexdigest(),
    )

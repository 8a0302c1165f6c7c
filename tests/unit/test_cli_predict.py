"""`python -m densenet_demo predict IMAGE --model ... --top-k ...`: top-k lines, or one error
line."""

from densenet_demo.cli import main
from densenet_demo.training.data import CLASS_NAMES

from support import EXAMPLE, run_cli


def test_predict_prints_the_top_k_classes_most_probable_first(tiny_weights_dir, capsys):
    assert (
        main(
            [
                "predict",
                str(EXAMPLE),
                "--model",
                "fashion",
                "--top-k",
                "3",
                "--weights-dir",
                str(tiny_weights_dir),
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    percents = [float(line.split("%")[0]) for line in lines]
    assert percents == sorted(percents, reverse=True)
    assert all(line.split("%  ", 1)[1] in CLASS_NAMES for line in lines)


def test_missing_imagenet_weights_is_one_line_and_a_non_zero_exit(tmp_path):
    result = run_cli(
        "predict",
        str(EXAMPLE),
        "--model",
        "densenet121",
        "--weights-dir",
        str(tmp_path),
        DENSENET_OFFLINE="1",
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: DenseNet-121 (ImageNet) is unavailable: its weights file is not in {tmp_path} "
        "and downloads are off (DENSENET_OFFLINE=1): put "
        "densenet121_weights_tf_dim_ordering_tf_kernels.h5 in the weights folder "
        "(DENSENET_WEIGHTS_DIR, or --weights-dir on the command line)."
    )


def test_a_file_that_is_not_an_image_is_one_line(tiny_weights_dir, tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("this is text, not a picture")
    result = run_cli("predict", str(fake), "--weights-dir", str(tiny_weights_dir))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "could not be read as an image" in result.stderr

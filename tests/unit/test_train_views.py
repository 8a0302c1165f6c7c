"""The Train tab's views, from real model cards and job states: the live curves and progress
line of a job, the runs table, accuracy against cost with its Pareto front, and two runs
compared."""

import dataclasses
from pathlib import Path

import pytest

from densenet_demo.architecture.config import DenseNetConfig
from densenet_demo.architecture.summary import summarize
from densenet_demo.inference.card import ModelCard, Preprocessing
from densenet_demo.inference.classifier import WEIGHTS_DIR
from densenet_demo.inference.runs import Run
from densenet_demo.training.budget import Budget
from densenet_demo.training.data import CLASS_NAMES
from densenet_demo.training.jobs import JobState
from densenet_demo.training.run_record import RunRecord
from densenet_demo.ui.model_charts import ANCHORS
from densenet_demo.ui.train_views import (
    RUNS_TABLE_HEADERS,
    compare_runs,
    duration_text,
    live_curves_figure,
    pareto_front,
    progress_fraction,
    progress_markdown,
    runs_scatter_figures,
    runs_table,
    short_config,
)

SMALL = DenseNetConfig(
    input_shape=(28, 28, 1),
    num_classes=10,
    growth_rate=12,
    block_layers=(4, 4, 4),
    init_features=32,
    stem="article",
)
WIDER = dataclasses.replace(SMALL, growth_rate=16)
TINY = dataclasses.replace(SMALL, growth_rate=8, block_layers=(2, 2))
TWO_EPOCHS = Budget(20_000, 2, 128, 0.1)  # a run's budget unless a test says otherwise
FOUR_EPOCHS = Budget(20_000, 4, 128, 0.1)  # a job's


def epoch_rows(val_accuracies, images_per_second=(500.0,)):
    """The trainer's per-epoch rows, figures made up but shaped as it writes them."""
    rates = list(images_per_second) * len(val_accuracies)
    return tuple(
        {
            "epoch": epoch,
            "loss": 1.2 - 0.1 * epoch,
            "accuracy": val - 0.02,
            "val_loss": 1.3 - 0.1 * epoch,
            "val_accuracy": val,
            "learning_rate": 0.1,
            "seconds": 60.0,
            "images_per_second": rates[epoch - 1],
        }
        for epoch, val in enumerate(val_accuracies, start=1)
    )


def make_run(
    suffix: str,
    config: DenseNetConfig = SMALL,
    val_accuracies=(0.85, 0.8741),
    test_accuracy: float = 0.869,
    budget: Budget = TWO_EPOCHS,
    train_seconds: int = 125,
    images_per_second=(500.0,),
) -> Run:
    """A saved run as `training.jobs` leaves it: a card with the budget's trainer settings
    (fewer epochs done than given: cancelled)."""
    run_id = f"run-20260101-120000-{suffix}"
    card = ModelCard(
        name=run_id,
        config=config,
        class_names=CLASS_NAMES,
        preprocessing=Preprocessing("fashion", "28x28 grayscale", 1 / 255, 0.286, 0.353),
        test_accuracy=test_accuracy,
        test_images=10_000,
        params=summarize(config).total_params,
        epochs=len(val_accuracies),
        batch_size=budget.batch_size,
        settings=dataclasses.asdict(budget.settings(run_id)),
        final_val_accuracy=val_accuracies[-1],
        history=epoch_rows(val_accuracies, images_per_second),
        train_seconds=train_seconds,
        weights_file=f"{run_id}.weights.h5",
    )
    return Run(run_id, Path("/runs") / run_id, card)


def records(*runs: Run) -> list[RunRecord]:
    return [RunRecord.of(run) for run in runs]


def table_rows(*runs: Run) -> list[dict]:
    """The runs table's rows, each by column name."""
    headers, rows = runs_table(records(*runs))
    return [dict(zip(headers, row, strict=True)) for row in rows]


def job(state: str = "training", budget: Budget = FOUR_EPOCHS, **fields):
    return JobState(
        "run-20260101-130000-0a0a",
        SMALL.to_dict(),
        budget,
        estimate_seconds=300.0,
        state=state,
        steps=budget.train_images // budget.batch_size,
        **fields,
    )


@pytest.fixture(scope="module")
def shipped() -> ModelCard:
    return ModelCard.read(WEIGHTS_DIR / "fashion.json")


# --- short configuration and durations ---------------------------------------------------


def test_short_config_names_flags_growth_rate_blocks_and_stem():
    assert short_config(SMALL) == "BC k=12 4-4-4 article stem"


def test_short_config_leaves_out_the_flags_a_config_does_not_have():
    plain = dataclasses.replace(SMALL, bottleneck=False, compression=1.0)
    bottleneck_only = dataclasses.replace(SMALL, compression=1.0)
    assert short_config(plain) == "k=12 4-4-4 article stem"
    assert short_config(bottleneck_only) == "B k=12 4-4-4 article stem"


def test_short_config_names_a_style_other_than_the_papers():
    article = dataclasses.replace(SMALL, style="article")
    assert short_config(article) == "BC k=12 4-4-4 article stem article style"


def test_durations_read_as_minutes_under_an_hour_and_hours_from_one_on():
    assert duration_text(5) == "0:05"
    assert duration_text(125) == "2:05"
    assert duration_text(12_622) == "3:30 h"


# --- the Pareto front ---------------------------------------------------------------------


def test_pareto_front_keeps_the_points_no_other_beats_cost_ascending():
    points = [(100, 0.80), (50, 0.85), (200, 0.90), (150, 0.88), (300, 0.89)]
    assert pareto_front(points) == [1, 3, 2]


def test_pareto_front_drops_a_point_as_accurate_as_a_cheaper_one():
    assert pareto_front([(200, 0.9), (100, 0.9)]) == [1]


def test_pareto_front_drops_a_point_less_accurate_at_the_same_cost():
    assert pareto_front([(100, 0.8), (100, 0.9)]) == [1]


def test_pareto_front_keeps_identical_points_both():
    assert pareto_front([(100, 0.9), (50, 0.7), (100, 0.9)]) == [1, 0, 2]


def test_pareto_front_of_no_points_is_empty():
    assert pareto_front([]) == []


# --- the live view of a job ---------------------------------------------------------------


def test_live_curves_draw_steps_as_lines_and_epochs_as_markers():
    steps = [(0.25, 1.5, 0.4), (0.5, 1.1, 0.6), (1.0, 0.9, 0.7), (1.5, 0.8, 0.75)]
    history = list(epoch_rows([0.72]))
    figure = live_curves_figure(job(epoch=2, step=78, steps_seen=steps, history=history))
    loss, val_loss, accuracy, val_accuracy = figure.data
    assert list(loss.x) == list(accuracy.x) == [0.25, 0.5, 1.0, 1.5]
    assert list(loss.y) == [1.5, 1.1, 0.9, 0.8]
    assert list(accuracy.y) == [0.4, 0.6, 0.7, 0.75]
    assert loss.mode == "lines" and val_loss.mode == "lines+markers"
    assert list(val_loss.x) == list(val_accuracy.x) == [1]
    assert list(val_loss.y) == [history[0]["val_loss"]]
    assert list(val_accuracy.y) == [0.72]


def test_live_curves_x_axis_spans_the_budgets_epochs():
    figure = live_curves_figure(job(epoch=1, steps_seen=[(0.1, 2.0, 0.2)]))
    assert tuple(figure.layout.xaxis.range) == tuple(figure.layout.xaxis2.range) == (0, 4)


def test_live_curves_of_a_job_with_no_steps_yet_say_it_is_waiting():
    figure = live_curves_figure(job(state="queued", queue_position=1))
    assert [len(trace.x) for trace in figure.data] == [0, 0, 0, 0]  # axes and legend drawn
    assert "waiting for the first steps…" in [note.text for note in figure.layout.annotations]
    assert tuple(figure.layout.xaxis.range) == (0, 4)


def test_a_finished_job_is_complete_whatever_its_outcome():
    for state in ("done", "cancelled", "failed"):
        assert progress_fraction(job(state=state, epoch=1, step=3)) == 1.0


def test_progress_counts_the_epochs_and_steps_done():
    assert progress_fraction(job(epoch=2, step=78)) == pytest.approx(1.5 / 4)


def test_a_waiting_job_has_made_no_progress():
    assert progress_fraction(job(state="queued", queue_position=2)) == 0.0


def test_progress_line_says_how_many_jobs_wait_ahead():
    assert progress_markdown(job(state="queued", queue_position=2)).startswith(
        "Waiting: 2 jobs ahead of yours · yours will take about 5 min 00 s"
    )
    assert progress_markdown(job(state="queued", queue_position=1)).startswith(
        "Waiting: 1 job ahead of yours"
    )


def test_progress_line_says_the_worker_is_starting():
    assert progress_markdown(job(state="starting")) == "Starting the worker…"


def test_progress_line_gives_epoch_step_speed_and_time_left_while_training():
    state = job(epoch=2, step=120, images_per_second=612.4, seconds_left=80)
    assert progress_markdown(state) == (
        "Epoch 2/4 · step 120/156 · 612 images/s · about 1 min 20 s left"
    )


def test_progress_line_adds_the_jobs_own_sentence():
    stopping = job(state="stopping", epoch=2, step=10, message="Stopping…")
    assert progress_markdown(stopping) == "Epoch 2/4 · step 10/156  \nStopping…"
    done = job(state="done", epoch=4, step=156, message="Done after 4 epochs.")
    assert progress_markdown(done) == "Done after 4 epochs."


# --- the runs table -------------------------------------------------------------------------


def test_runs_table_has_a_row_per_run_under_its_headers():
    runs = [make_run("aaaa"), make_run("bbbb", WIDER)]
    headers, rows = runs_table(records(*runs))
    assert headers == RUNS_TABLE_HEADERS
    assert len(rows) == 2 and all(len(row) == len(headers) for row in rows)
    assert [row["Run"] for row in table_rows(*runs)] == [run.run_id for run in runs]


def test_runs_table_formats_each_figure_for_people():
    run = make_run("aaaa", images_per_second=(500.0, 520.0))
    [row] = table_rows(run)
    assert row == {
        "Run": run.run_id,
        "Configuration": "BC k=12 4-4-4 article stem",
        "Parameters": "110,610",
        "MACs": "8.93 M",
        "Epochs": "2/2",
        "Training images": "20,000",
        "Batch size": "128",
        "Learning rate": "0.1",
        "Val accuracy": "87.41%",
        "Test accuracy": "86.90%",
        "Training time": "2:05",
        "Images/s": "510",
    }


def test_runs_table_marks_a_run_stopped_before_its_epochs():
    run = make_run("aaaa", val_accuracies=(0.8,), budget=Budget(20_000, 3, 128, 0.1))
    assert table_rows(run)[0]["Epochs"] == "1/3 cancelled"


def test_runs_table_counts_all_55000_images_of_a_run_on_all_of_them():
    run = make_run("aaaa", budget=Budget(55_000, 2, 128, 0.1))
    assert run.card.settings["train_images"] == 55_000
    assert table_rows(run)[0]["Training images"] == "55,000"


def test_runs_table_reads_the_image_count_of_a_card_written_before_train_images():
    run = make_run("aaaa", budget=Budget(55_000, 2, 128, 0.1))
    settings = {**run.card.settings, "train_limit": 0}  # 0: all, as the trainer once wrote
    del settings["train_images"]
    old = dataclasses.replace(run, card=dataclasses.replace(run.card, settings=settings))
    assert table_rows(old)[0]["Training images"] == "55,000"
    assert "Training images" not in compare_runs(run, old)[1]


# --- accuracy against cost -----------------------------------------------------------------


def scatter_trace(figure, name):
    [trace] = [trace for trace in figure.data if trace.name == name]
    return trace


def test_scatter_joins_the_runs_no_other_beats_as_the_pareto_front(shipped):
    runs = [
        make_run("aaaa", SMALL, val_accuracies=(0.86,)),
        make_run("bbbb", WIDER, val_accuracies=(0.85,)),  # more parameters, less accurate
        make_run("cccc", TINY, val_accuracies=(0.80,)),
    ]
    by_params, by_macs = runs_scatter_figures(records(*runs), shipped)
    for figure in (by_params, by_macs):
        front = scatter_trace(figure, "Pareto front")
        assert list(front.y) == [0.80, 0.86]
        points = scatter_trace(figure, "runs")
        assert list(points.marker.size) == [13, 8, 13]
    params = [summarize(config).total_params for config in (TINY, SMALL)]
    assert list(scatter_trace(by_params, "Pareto front").x) == params
    macs = [summarize(config).macs for config in (TINY, SMALL)]
    assert list(scatter_trace(by_macs, "Pareto front").x) == macs


def test_scatter_hover_names_the_run_its_config_and_accuracies(shipped):
    by_params = runs_scatter_figures(records(make_run("aaaa")), shipped)[0]
    [hover] = scatter_trace(by_params, "runs").customdata
    assert hover.startswith("run-20260101-120000-aaaa<br>BC k=12 4-4-4 article stem")
    assert "val 87.41%, test 86.90%" in hover and "2/2 epochs, 20,000 images" in hover


def test_scatter_stars_the_shipped_model_at_its_cost_and_validation_accuracy(shipped):
    by_params, by_macs = runs_scatter_figures(records(make_run("aaaa")), shipped)
    star = scatter_trace(by_params, "shipped model")
    assert list(star.x) == [shipped.params] and list(star.y) == [shipped.final_val_accuracy]
    assert list(scatter_trace(by_macs, "shipped model").x) == [summarize(shipped.config).macs]


def test_scatter_labels_the_shipped_model_towards_the_middle_of_the_plot(shipped):
    small, large = (
        make_run("aaaa", TINY),
        make_run("bbbb", dataclasses.replace(SMALL, growth_rate=40)),
    )
    macs = [summarize(card.config).macs for card in (small.card, shipped, large.card)]
    assert macs == sorted(macs)
    by_macs = runs_scatter_figures(records(small), shipped)[1]  # the shipped model rightmost
    assert scatter_trace(by_macs, "shipped model").textposition == "bottom left"
    by_macs = runs_scatter_figures(records(large), shipped)[1]  # the shipped model leftmost
    assert scatter_trace(by_macs, "shipped model").textposition == "bottom right"


def test_scatter_draws_the_published_test_accuracies_as_labelled_lines():
    for figure in runs_scatter_figures(records(make_run("aaaa")), None):
        lines = [shape.y0 for shape in figure.layout.shapes]
        assert lines == [anchor.accuracy for anchor in ANCHORS]
        labels = {note.text for note in figure.layout.annotations}
        assert {f"{anchor.name} (test)" for anchor in ANCHORS} <= labels
        assert "shipped model" not in [trace.name for trace in figure.data]


def test_scatter_places_the_published_models_whose_parameters_are_known():
    points = scatter_trace(runs_scatter_figures([], None)[0], "published (test)")
    assert list(points.x) == [768_000, 8_900_000]
    assert list(points.y) == [0.954, 0.967]


def test_scatter_without_runs_says_so():
    for figure in runs_scatter_figures([], None):
        assert "no saved runs yet" in [note.text for note in figure.layout.annotations]


# --- two runs compared ---------------------------------------------------------------------


def test_compare_overlays_a_solid_and_b_dashed_from_their_histories():
    a, b = make_run("aaaa"), make_run("bbbb", val_accuracies=(0.8, 0.85, 0.88))
    figure, _ = compare_runs(a, b)
    curves = {(trace.name, trace.yaxis): trace for trace in figure.data}
    assert len(curves) == 8
    a_val = curves[("A validation", "y2")]
    assert a_val.line.dash == "solid" and list(a_val.y) == [0.85, 0.8741]
    b_loss = curves[("B training", "y")]
    assert b_loss.line.dash == "dash" and list(b_loss.x) == [1, 2, 3]
    assert list(b_loss.y) == [row["loss"] for row in b.card.history]


def test_compare_puts_the_headline_figures_side_by_side():
    a = make_run("aaaa", train_seconds=125)
    b = make_run("bbbb", val_accuracies=(0.88, 0.8802), test_accuracy=0.87, train_seconds=95)
    text = compare_runs(a, b)[1]
    assert "| Val accuracy | 87.41% | 88.02% | +0.61 pp |" in text
    assert "| Test accuracy | 86.90% | 87.00% | +0.10 pp |" in text
    assert "| Parameters | 110,610 | 110,610 | +0 |" in text
    assert "| Training time | 2:05 | 1:35 | -0:30 |" in text


def test_compare_lists_the_configuration_fields_that_differ():
    text = compare_runs(make_run("aaaa", SMALL), make_run("bbbb", TINY))[1]
    assert "| `growth_rate` | `12` | `8` |" in text
    assert "| `block_layers` | `(4, 4, 4)` | `(2, 2)` |" in text
    assert "`bottleneck`" not in text


def test_compare_lists_the_training_settings_that_differ():
    a = make_run("aaaa", budget=Budget(20_000, 2, 128, 0.1))
    b = make_run("bbbb", val_accuracies=(0.8,), budget=Budget(20_000, 3, 64, 0.05))
    text = compare_runs(a, b)[1]
    assert "| Epochs | 2/2 | 1/3 cancelled |" in text
    assert "| Batch size | 128 | 64 |" in text
    assert "| Learning rate | 0.1 | 0.05 |" in text
    assert "Training images" not in text


def test_compare_of_runs_trained_alike_says_so():
    text = compare_runs(make_run("aaaa"), make_run("bbbb", WIDER))[1]
    assert "A and B were trained with the same settings." in text
    assert "A and B have the same configuration." not in text

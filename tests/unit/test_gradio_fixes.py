"""The cache cleanup as the app installs it (`ui/gradio_fixes.py`): it deletes every old file
while requests keep adding new ones, and one failed round does not end it."""

import asyncio
import threading
import time
import types

from gradio import route_utils

from densenet_demo.ui import gradio_fixes


def test_the_cleanup_deletes_old_files_while_requests_add_new_ones(tmp_path):
    old = set()
    for index in range(20_000):
        path = tmp_path / f"old-{index}.png"
        path.write_bytes(b"x")
        old.add(str(path))
    files = set(old)
    app = types.SimpleNamespace(blocks={}, temp_file_sets=[files])
    done = threading.Event()

    def upload():  # a request registering its files, as fast as it can
        count = 0
        while not done.is_set():
            files.add(str(tmp_path / f"new-{count}.png"))
            count += 1
            time.sleep(0)  # hand the GIL back: otherwise each of the cleanup's unlinks waits 5 ms

    uploads = threading.Thread(target=upload)
    uploads.start()
    try:
        gradio_fixes._delete_files_created_by_app(app, age=0)
    finally:
        done.set()
        uploads.join()
    assert not any(path.name.startswith("old-") for path in tmp_path.iterdir())
    assert not files & old  # forgotten once deleted: the sets do not grow forever


def test_a_failed_cleanup_round_is_retried_at_the_next(monkeypatch):
    rounds = []

    def cleanup(blocks, age):
        rounds.append(age)
        if len(rounds) == 1:
            raise PermissionError("a file the app cannot delete")

    monkeypatch.setattr(route_utils, "delete_files_created_by_app", cleanup)
    app = types.SimpleNamespace(get_blocks=lambda: None)

    async def three_rounds():
        task = asyncio.create_task(gradio_fixes._delete_files_on_schedule(app, 0.01, 60))
        while len(rounds) < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(asyncio.wait_for(three_rounds(), timeout=10))
    assert rounds[:3] == [60, 60, 60]


def test_the_page_installs_the_cleanup_before_it_launches():
    gradio_fixes.apply()
    assert route_utils.delete_files_created_by_app is gradio_fixes._delete_files_created_by_app
    assert route_utils.delete_files_on_schedule is gradio_fixes._delete_files_on_schedule

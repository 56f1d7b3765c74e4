"""The collector is paused while batches score and always resumed, however the pauses nest across threads."""

from __future__ import annotations

import gc
import threading

from cvre.serving.gc_pause import collector_paused


def test_nested_pauses_resume_once_the_last_ends():
    assert gc.isenabled()
    entered, release = threading.Event(), threading.Event()

    def other_batch():
        with collector_paused():
            entered.set()
            release.wait(5)

    worker = threading.Thread(target=other_batch)
    with collector_paused():
        assert not gc.isenabled()
        worker.start()
        assert entered.wait(5)
    assert not gc.isenabled(), "resumed while another batch was still scoring"
    release.set()
    worker.join(5)
    assert gc.isenabled()


def test_resumes_after_an_error_and_leaves_a_collector_turned_off_elsewhere_alone():
    try:
        with collector_paused():
            raise ValueError("a failed batch")
    except ValueError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

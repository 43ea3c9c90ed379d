"""The test session's own housekeeping: what a killed session left in the temp folder is removed."""

import os
import subprocess
import sys


def test_a_killed_sessions_temp_folders_are_removed_and_a_running_ones_kept(tmp_path):
    from fixtures.sessions import OWNER_FILE, remove_folders_of_killed_sessions

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    folders = {name: tmp_path / name for name in ("synthir-tests-killed", "synthir-test-models-killed",
                                                   "synthir-tests-running", "synthir-tests-unowned", "other-killed")}
    for folder in folders.values():
        (folder / "models").mkdir(parents=True)
    for name, pid in (("synthir-tests-killed", gone.stdout), ("synthir-test-models-killed", gone.stdout),
                      ("synthir-tests-running", str(os.getpid())), ("other-killed", gone.stdout)):
        (folders[name] / OWNER_FILE).write_text(pid.strip())
    removed = remove_folders_of_killed_sessions(tmp_path)
    assert sorted(p.name for p in removed) == ["synthir-test-models-killed", "synthir-tests-killed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other-killed", "synthir-tests-running", "synthir-tests-unowned"]

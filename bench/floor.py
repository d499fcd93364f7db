"""Streamlit's own floor: bench/load.py's virtual participants against a bare app with the same widgets.

    python bench/floor.py --participants 200 --duration 60

bench/floor_app.py has the participant form's widgets in an st.form and the same 2 s fragment,
and a wall page that polls the same way; no database, no domain, no styling. The same virtual
clients (bench/st_client.py) follow the fragment, submit the form and watch the wall, on the
same schedule as bench/load.py (arrivals over --ramp, --settle seconds of following, then
--duration seconds of stories). The server gets the app's own Streamlit settings
(.streamlit/config.toml, passed as STREAMLIT_* variables), so the difference between the two
runs is the app's page cost:

    ratio = server CPU (bench/load.py) / server CPU (bench/floor.py)   at the same --participants

Stories "stored" here are the ones on the wall at the end (there is no database).
By default the floor's fields are plain widgets that rerun when changed, as the app's form is;
--floor-form puts them in an st.form (one rerun per story) instead.
"""

from __future__ import annotations

import asyncio
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.st_client import StreamlitClient  # noqa: E402


def app_streamlit_options() -> list[str]:
    """The app's .streamlit/config.toml as SECTION.OPTION=VALUE strings."""
    path = ROOT / ".streamlit" / "config.toml"
    if not path.exists():
        return []
    options = []
    for section, values in tomllib.loads(path.read_text(encoding="utf-8")).items():
        for key, value in values.items():
            options.append(f"{section}.{key}={str(value).lower() if isinstance(value, bool) else value}")
    return options


class FloorScenario(load.StoryRelayScenario):
    name = "Streamlit floor (bench/floor_app.py)"
    script = ROOT / "bench" / "floor_app.py"
    has_console = False
    has_join_page = False
    needs_database = False
    posts_drafts = False  # the floor has no draft route

    def __init__(self, args):
        super().__init__(args)
        self.base_url = ""

    def server_env(self) -> dict[str, str]:
        return {}

    def setup(self, data_dir, n_participants, join_page) -> None:
        pass

    def projector_page(self):
        return "", "view=projector"

    def via_join_page(self, i: int) -> bool:
        return False

    def participant_page(self, i: int):
        return "", "view=participant" + ("&form=1" if self.args.floor_form else "")

    def stored_tokens(self, tag: str) -> set[str]:
        """Open the wall once more and read every token on it."""
        found: set[str] = set()

        def on_delta(_client, kind, el, _now):
            if kind == "text":
                for m in load.TOKEN_RE.finditer(el.text.body):
                    if m.group(1) == tag:
                        found.add(m.group(0))

        async def read_wall():
            client = StreamlitClient(self.base_url, "", "view=projector", name="wall-count", on_delta=on_delta,
                                     auto_rerun=False)
            try:
                await client.connect(timeout=load.CONNECT_TIMEOUT_S)
            finally:
                await client.close()

        try:
            asyncio.run(read_wall())
        except (asyncio.TimeoutError, OSError, load.ClientError) as exc:
            print(f"floor: could not read the wall at the end ({exc!r}); counting what the projector saw",
                  file=sys.stderr)
            return set(self.seen_on_wall)
        return found

    def stored_votes(self) -> int:
        return 0

    def close(self) -> None:
        pass


def main(argv=None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--replicas" in argv:
        raise SystemExit("the floor keeps its stories in one process: no --replicas")
    if "--server-url" not in argv:
        for option in app_streamlit_options():
            argv += ["--server-option", option]
    return load.main(argv, scenario_cls=FloorScenario, doc=__doc__)


if __name__ == "__main__":
    main()

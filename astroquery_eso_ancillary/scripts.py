# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Download scripts for machines without Python: curl, wget or aria2c.

`write_script` turns download jobs (`~astroquery_eso_ancillary.download.FileJob`)
into a POSIX shell script that fetches the same files into the same folders and
names as ``download_ancillary``:

- a complete file is skipped; bytes go to ``<name>.part``, continued on a
  re-run (HTTP Range) and renamed when the tool reports success;
- the login token is read from an environment variable (``ESO_TOKEN``) when
  the script runs and handed to the tool in a private temporary file (or on
  standard input), never on a command line (which ``ps`` shows) and never in
  the script; only files on the archive's own hosts get it;
- the script ends with the number of failed files and exits 1 if any failed.

Names: the script cannot read the server's ``Content-Disposition`` before
resuming, so each file is named from the archive's metadata
(``<archive_id>.<ext>``, or ``original_filename`` with ``names='original'``).
"""
import stat
from pathlib import Path

from . import transport
from .filenames import safe_filename

__all__ = ["TOOLS", "check_tool", "save_script", "write_script"]

#: The tools a script can be written for.
TOOLS = ("curl", "wget", "aria2c")

_TOKEN = "@TOKEN@"


def check_tool(tool):
    """Check the ``tool`` argument; raise ValueError naming it and the accepted ones.

    Examples
    --------
    >>> check_tool("curl")
    >>> check_tool("lynx")
    Traceback (most recent call last):
    ...
    ValueError: tool must be one of 'curl', 'wget', 'aria2c', not 'lynx'.
    """
    if tool not in TOOLS:
        raise ValueError(f"tool must be one of {', '.join(map(repr, TOOLS))}, not {tool!r}.")


def quote(text):
    """Quote ``text`` for a POSIX shell (single quotes; ``'`` written ``'\\''``).

    Examples
    --------
    >>> print(quote("it's"))
    'it'\\''s'
    """
    return "'" + str(text).replace("'", "'\\''") + "'"


def _auth_line(trusted):
    # The header as transport.auth_headers makes it (the one place that knows how),
    # for a placeholder token; the script puts the real one in at run time.
    probe = next(iter(sorted(trusted)), "https://archive.eso.org")
    headers = transport.auth_headers(probe, transport.Credentials(_TOKEN, trusted))
    if not headers:
        return None
    (name, value), = headers.items()
    return f"{name}: {value}"


def _printf_format(line, tool):
    """A printf format writing the tool's config line for the header (token as %s)."""
    if line is None:
        return ""
    before, _, after = line.partition(_TOKEN)
    escaped = (before + "%s" + after).replace("\\", "\\\\").replace('"', '\\"')
    if tool == "curl":
        return f'header = "{escaped}"\\n'
    if tool == "wget":
        return f"header = {before}%s{after}\\n"
    return f"header={before}%s{after}\\n"


# One command per tool: (with the token, without); $1 URL, $2 folder, $3 name.
_COMMANDS = {
    "curl": ('printf "$AUTH_FORMAT" "$TOKEN" | curl --config - $CURL_OPTS '
             '--output "$2/$3.part" "$1"',
             'curl $CURL_OPTS --output "$2/$3.part" "$1"'),
    "wget": ('wget --config="$AUTH_FILE" $WGET_OPTS --output-document="$2/$3.part" "$1"',
             'wget $WGET_OPTS --output-document="$2/$3.part" "$1"'),
    "aria2c": ('aria2c --conf-path="$AUTH_FILE" $ARIA2_OPTS --dir="$2" --out="$3.part" "$1"',
               'aria2c --no-conf=true $ARIA2_OPTS --dir="$2" --out="$3.part" "$1"'),
}

# Resume, retry, fail on HTTP errors, quiet but for errors.
_OPTIONS = {
    "curl": 'CURL_OPTS="--fail --location --silent --show-error --retry 5 --retry-delay 2 '
            '--continue-at -"',
    "wget": 'WGET_OPTS="--quiet --continue --tries=5 --waitretry=2"',
    "aria2c": 'ARIA2_OPTS="--quiet=true --continue=true --max-tries=5 --retry-wait=2 '
              '--auto-file-renaming=false --allow-overwrite=true --console-log-level=error"',
}


def _header(tool, *, token_variable, count, unknown, auth_format):
    lines = [
        "#!/bin/sh",
        f"# Download {count} ESO archive file(s) with {tool}; written by astroquery_eso_ancillary.",
        "# Run it again to resume: complete files are skipped, partial ones (.part) continued.",
        f"# Proprietary files: export {token_variable}=<your ESO token> first (never stored",
        "# here; it is sent only to the archive's own hosts).",
    ]
    if unknown:
        lines.append(f"# Left out, neither products nor files: {' '.join(unknown)}")
    lines += [
        "set -u",
        f'TOKEN="${{{token_variable}:-}}"',
        f"AUTH_FORMAT={quote(auth_format)}",
        "AUTH_FILE=",
        "failed=0",
        _OPTIONS[tool],
    ]
    if tool != "curl":
        lines += [
            # wget and aria2c read the header from a config file only this user can read.
            'if [ -n "$TOKEN" ]; then',
            "    AUTH_FILE=$(umask 077 && mktemp) || exit 1",
            "    trap 'rm -f \"$AUTH_FILE\"' EXIT",
            "    trap 'exit 130' INT TERM",
            '    printf "$AUTH_FORMAT" "$TOKEN" > "$AUTH_FILE"',
            "fi",
        ]
    lines += [
        "",
        "# fetch URL FOLDER NAME AUTH: one file into FOLDER/NAME.",
        "fetch() {",
        '    mkdir -p "$2" || { failed=$((failed + 1)); return; }',
        '    if [ -f "$2/$3" ]; then',
        '        echo "already there: $2/$3"',
        "        return",
        "    fi",
    ]
    with_token, without = _COMMANDS[tool]
    token_ready = '[ -n "$TOKEN" ]' if tool == "curl" else '[ -n "$AUTH_FILE" ]'
    lines += [
        f'    if [ "$4" = 1 ] && {token_ready}; then',
        f"        {with_token}",
        "    else",
        f"        {without}",
        "    fi",
        "    status=$?",
    ]
    lines += [
        '    if [ "$status" -eq 0 ] && mv -f "$2/$3.part" "$2/$3"; then',
        '        echo "downloaded: $2/$3"',
        "    else",
        '        echo "FAILED: $1" >&2',
        "        failed=$((failed + 1))",
        "    fi",
        "}",
        "",
    ]
    return lines


def write_script(jobs, *, tool="curl", destination=".", trusted=(), token_variable="ESO_TOKEN",
                 unknown=()):
    """The text of a download script for ``jobs``.

    Parameters
    ----------
    jobs : list of `~astroquery_eso_ancillary.download.FileJob`
        Their ``folder``, name (``local_name``, else ``<archive_id>.<ext>``)
        and URL are used.
    tool : {'curl', 'wget', 'aria2c'}
    destination : str
        The folder the script downloads into (relative to where it runs).
    trusted : iterable of str
        The origins that may receive the token (``EsoClass.trusted_origins()``).
    token_variable : str
        The environment variable the script reads the token from.
    unknown : list of str
        Ids to name in a comment (not downloadable).

    Returns
    -------
    str

    Examples
    --------
    >>> from astroquery_eso_ancillary.download import DownloadOptions, FileJob
    >>> job = FileJob("ADP.1", "https://x/ADP.1", DownloadOptions("/tmp"), extension="PNG")
    >>> text = write_script([job], tool="curl", trusted=["https://x"])
    >>> "fetch 'https://x/ADP.1' '.' 'ADP.1.png' 1" in text
    True
    """
    check_tool(tool)
    if not str(token_variable).isidentifier():
        raise ValueError(f"token_variable must be a shell variable name, not {token_variable!r}")
    trusted = frozenset(transport.origin(o) for o in trusted)
    auth_format = _printf_format(_auth_line(trusted), tool) if trusted else ""
    lines = _header(tool, token_variable=token_variable, count=len(jobs), unknown=list(unknown),
                    auth_format=auth_format)
    for job in jobs:
        name = job.local_name or safe_filename(
            f"{job.archive_id}.{job.extension.lower()}" if job.extension else job.archive_id)
        root = destination.rstrip("/") or "/"
        folder = f"{root.rstrip('/')}/{job.folder}" if job.folder else root
        auth = 1 if transport.origin(job.url) in trusted else 0
        lines.append(f"fetch {quote(job.url)} {quote(folder)} {quote(name)} {auth}")
    lines += [
        "",
        'if [ "$failed" -gt 0 ]; then',
        f'    echo "$failed of {len(jobs)} file(s) failed; run the script again to resume." >&2',
        "    exit 1",
        "fi",
        f'echo "All {len(jobs)} file(s) are there."',
        "",
    ]
    return "\n".join(lines)


def save_script(text, path):
    """Write a script to ``path`` and make it executable by its owner.

    Examples
    --------
    >>> import os, tempfile
    >>> path = save_script("#!/bin/sh\\n", Path(tempfile.mkdtemp()) / "get.sh")
    >>> os.access(path, os.X_OK)
    True
    """
    path = Path(path).expanduser()
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path

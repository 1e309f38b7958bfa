#!/bin/sh
# The container's entrypoint: bring the database up to date, then run the bot.
#
#   entrypoint.sh            -> jamaah run
#   entrypoint.sh doctor     -> jamaah doctor (any jamaah command: backup, cohort list, …)
#
# PostgreSQL may still be starting when the container starts: the migrations are tried
# again every 2 seconds for JAMAAH_DB_WAIT_SECONDS (default 60) before giving up.
set -eu

wait_s="${JAMAAH_DB_WAIT_SECONDS:-60}"
waited=0
until output="$(jamaah db upgrade 2>&1)"; do
    if [ "$waited" -ge "$wait_s" ]; then
        echo "jamaah: the database could not be brought up to date within ${wait_s} s:" >&2
        echo "$output" | tail -n 5 >&2
        echo "jamaah: check JAMAAH_DATABASE_URL and that the database runs" \
            "(docker compose ps; docker compose logs db)." >&2
        exit 1
    fi
    [ "$waited" -eq 0 ] && echo "jamaah: waiting for the database…" >&2
    sleep 2
    waited=$((waited + 2))
done
echo "$output"

if [ -n "${JAMAAH_BACKUP_DIR:-}" ] && [ ! -w "$JAMAAH_BACKUP_DIR" ]; then
    echo "jamaah: JAMAAH_BACKUP_DIR $JAMAAH_BACKUP_DIR is not writable by $(id -un)" \
        "(uid $(id -u)): on the host, chown $(id -u) the folder mounted there." >&2
fi

if [ "$#" -eq 0 ]; then
    set -- run
fi
exec jamaah "$@"

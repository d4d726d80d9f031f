#!/bin/sh
# Shell task template. The job's config arrives as JSON in $FARMBOY_CONFIG
# (and in the file named by $FARMBOY_CONFIG_FILE). Lines starting with
# ::progress, ::record and ::result are read by the agent, not logged:
#   ::progress PERCENT [message]
#   ::record {JSON}
#   ::result {JSON}
set -eu

echo "running on $(hostname) with config $FARMBOY_CONFIG"
echo "::progress 10 starting"

count=0
for item in one two three; do
  count=$((count + 1))
  echo "::record {\"item\": \"$item\", \"index\": $count}"
done

echo "::progress 100 done"
echo "::result {\"items\": $count}"

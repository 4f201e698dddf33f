#!/bin/sh
# MATPOWER can read back what `plurigrid convert` writes: every reference case goes MATPOWER ->
# plurigrid JSON -> MATPOWER, and GNU Octave (which loads a MATPOWER case by calling its function
# file, as MATPOWER's loadcase does) must evaluate the written file to the same baseMVA, bus, gen,
# branch and gencost matrices as the original, bit for bit. Columns one file has and the other
# does not (MATPOWER's optional trailing columns) must be zero.
# Usage: matpower_octave.sh PLURIGRID SOURCE_DIR DATA_DIR
set -eu
pg=$1 src=$2 data=$3
command -v octave-cli >/dev/null || { echo "FAIL: octave-cli not found (scripts/deps.sh installs octave)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/orig" "$tmp/out" "$tmp/hello"
n=0
for f in "$data"/matpower/cases/*.m; do
    name=$(basename "$f" .m)
    cp "$f" "$tmp/orig/$name.m"
    "$pg" convert "$f" "$tmp/$name.json" >/dev/null 2>&1
    "$pg" convert "$tmp/$name.json" "$tmp/out/$name.m" >/dev/null 2>&1
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "FAIL: no cases in $data/matpower/cases"; exit 1; }
cat > "$tmp/compare.m" <<'OCT'
function ok = compare(origdir, outdir)
  ok = true;
  files = dir(fullfile(origdir, '*.m'));
  for k = 1:numel(files)
    name = files(k).name(1:end-2);
    cd(origdir); a = feval(name);
    clear(name); cd(outdir); rehash(); b = feval(name); clear(name);
    if a.baseMVA ~= b.baseMVA
      printf('FAIL %s: baseMVA %g vs %g\n', name, a.baseMVA, b.baseMVA); ok = false;
    end
    for f = {'bus', 'gen', 'branch', 'gencost'}
      f = f{1};
      if ~isfield(a, f), continue; end
      if ~isfield(b, f)
        printf('FAIL %s: %s missing\n', name, f); ok = false; continue;
      end
      x = a.(f); y = b.(f);
      if rows(x) ~= rows(y)
        printf('FAIL %s: %s has %d rows, written %d\n', name, f, rows(x), rows(y)); ok = false; continue;
      end
      c = min(columns(x), columns(y));
      d = find(x(:, 1:c) ~= y(:, 1:c) & ~(isnan(x(:, 1:c)) & isnan(y(:, 1:c))), 1);
      if ~isempty(d)
        [i, j] = ind2sub([rows(x), c], d);
        printf('FAIL %s: %s(%d,%d) is %.17g, written %.17g\n', name, f, i, j, x(i, j), y(i, j)); ok = false;
      end
      if any(any(x(:, c+1:end) ~= 0)) || any(any(y(:, c+1:end) ~= 0))
        printf('FAIL %s: %s extra columns are not zero\n', name, f); ok = false;
      end
    end
    printf('%s: %d buses, %d gens, %d branches read back by Octave\n', name, rows(b.bus), rows(b.gen), rows(b.branch));
  end
end
OCT
# A world with more than MATPOWER holds (time series, renewables) still writes a valid case.
"$pg" convert "$src/examples/hello-microworld.json" "$tmp/hello/hello.m" 2>/dev/null
cd "$tmp"
out=$(octave-cli --no-gui --quiet --no-window-system --eval \
    "if compare('$tmp/orig', '$tmp/out'), disp('COMPARE-OK'); end; cd('$tmp/hello'); h = feval('hello'); printf('hello: %d buses, %d gens, %d branches\\n', rows(h.bus), rows(h.gen), rows(h.branch));" 2>&1)
echo "$out"
echo "$out" | grep -q '^COMPARE-OK$' || { echo "FAIL: Octave read back differs"; exit 1; }
echo "$out" | grep -q '^hello: 3 buses, [1-9][0-9]* gens, 2 branches$' || { echo "FAIL: hello microworld as MATPOWER"; exit 1; }
echo "matpower-octave: ok ($n cases)"

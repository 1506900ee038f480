# shellcheck shell=bash
# Signing keys and token pools for scripts/bench.sh, made with `skybridge keys generate` and
# `skybridge token issue` and kept in a cache folder between runs: signing 40,000 tokens takes
# minutes, so a pool is reused until it is a day from expiry (tokens live 7 days, the longest
# `token issue` allows). Tokens are secrets in general; these are signed by throwaway keys that
# only the benchmark's own servers trust, and they are never printed.

# Seconds a cached pool may be old before it is signed again: 6 of its 7 days.
BENCH_POOL_MAX_AGE=$((6 * 24 * 3600))

# bench_keys CACHE ALG: makes CACHE/ALG/{key.pem,public.pem,jwks.json} once.
bench_keys() {
  local dir=$1/$2 alg=$2 pem
  [ -s "$dir/key.pem" ] && [ -s "$dir/jwks.json" ] && [ -s "$dir/public.pem" ] && return 0
  rm -rf "$dir"
  "$BENCH_SKYBRIDGE" keys generate --alg "$alg" --out "$dir" >/dev/null
  pem=$(find "$dir" -maxdepth 1 -name '*.pem' | head -n 1)
  mv "$pem" "$dir/key.pem"
  # HAProxy's jwt_verify reads the public key as PEM.
  openssl pkey -in "$dir/key.pem" -pubout -out "$dir/public.pem"
}

# True when FILE holds at least COUNT lines and is younger than BENCH_POOL_MAX_AGE.
bench_pool_fresh() {
  local file=$1 count=$2 age
  [ -s "$file" ] || return 1
  age=$(($(date +%s) - $(stat -c %Y "$file")))
  [ "$age" -lt "$BENCH_POOL_MAX_AGE" ] && [ "$(wc -l <"$file")" -ge "$count" ]
}

# bench_pool CACHE ALG COUNT: CACHE/ALG/tokens.txt with COUNT distinct tokens (one subject
# each, so the rate limit keys differ too) and CACHE/ALG/one.txt with a single token.
bench_pool() {
  local dir=$1/$2 count=$3 tmp
  if ! bench_pool_fresh "$dir/tokens.txt" "$count"; then
    echo "bench: signing $count $2 tokens with skybridge token issue (cached in $dir)."
    tmp=$(mktemp "$dir/tokens.XXXXXX")
    # One process per token, one subject each; xargs runs one per CPU.
    seq -f "bench-%06g" 1 "$count" |
      xargs -P "$(nproc)" -I{} "$BENCH_SKYBRIDGE" token issue --key "$dir/key.pem" \
        --issuer "$BENCH_ISSUER" --audience "$BENCH_AUDIENCE" --subject {} \
        --scope "$BENCH_SCOPE" --ttl 7d >"$tmp"
    [ "$(sort -u "$tmp" | wc -l)" -ge "$count" ] || {
      echo "bench: signing the $2 pool produced fewer than $count distinct tokens" >&2
      return 1
    }
    mv "$tmp" "$dir/tokens.txt"
  fi
  head -n 1 "$dir/tokens.txt" >"$dir/one.txt"
}

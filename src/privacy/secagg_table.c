/* The table of the secure-aggregation engine (internal.h): what privacy.so exports and
 * libplurigrid calls. One row per function that needs libsodium. */
#include "privacy/internal.h"

const pgi_privacy_engine pgi_privacy_engine_table = {
    .rng_seed = pgi_secagg_rng_seed,
    .rng_fill = pgi_secagg_rng_fill,
    .outbox_free = pgi_secagg_outbox_free,
    .client_new = pgi_secagg_client_new,
    .client_free = pgi_secagg_client_free,
    .client_start = pgi_secagg_client_start,
    .client_handle = pgi_secagg_client_handle,
    .client_state = pgi_secagg_client_state_get,
    .client_view = pgi_secagg_client_view,
    .server_new = pgi_secagg_server_new,
    .server_free = pgi_secagg_server_free,
    .server_receive = pgi_secagg_server_receive,
    .server_complete = pgi_secagg_server_complete,
    .server_advance = pgi_secagg_server_advance,
    .server_state = pgi_secagg_server_state_get,
    .server_result = pgi_secagg_server_result,
    .server_failure = pgi_secagg_server_failure,
    .server_view = pgi_secagg_server_view,
    .sign_keypair_from_seed = pgi_secagg_sign_keypair_from_seed,
    .round_id = pgi_secagg_round_id,
};

/* Empty route sets for the parts of the API that are not in this branch yet (live.c defines the
 * real one): only so that the module links. Deleted when that file lands. */
#include "http/http.h"

const pgh_route_set pgh_routes_live = {NULL, 0};

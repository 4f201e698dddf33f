/* Empty route sets for the parts of the API that are not in this branch yet (worlds.c, run.c,
 * live.c define the real ones): only so that the module links. Deleted when those files land. */
#include "http/http.h"

const pgh_route_set pgh_routes_worlds = {NULL, 0};
const pgh_route_set pgh_routes_run = {NULL, 0};
const pgh_route_set pgh_routes_live = {NULL, 0};

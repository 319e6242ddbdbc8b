"""Talk to the NX1 jobs API.

``client`` (what each call means), ``joblist`` (reading the items of the job list),
``fetch`` (a plan's list request, in a thread), ``session`` (attempts, deadlines),
``retries`` (the retries between attempts), ``transport`` (caps on answers, the
watchdog), ``wire`` (a kept connection per thread) and ``wiresend`` (a request on it,
through the credential), ``auth`` (credentials as ``httpx.Auth`` and the table of how
they are given), ``credential`` (the base of the auth classes), ``oauth`` (client
credentials and their tokens), ``settings`` (where the API is, URL rules), ``answers``
(reading answers), ``scrub`` (server text made safe for a message), ``remote`` (jobs as
the API reports them), ``throttle`` (the AIMD limiter), ``jsonfast`` (strict JSON, fast).
"""

"""Talk to the NX1 jobs API.

``client`` (what each call means), ``fetch`` (a plan's list request, in a thread),
``session`` (attempts, deadlines, retries), ``transport`` (caps on answers, the watchdog), ``auth`` (credentials as ``httpx.Auth``
and the table of how they are given), ``settings`` (where the API is, URL rules),
``answers`` (reading answers, scrubbing server text), ``remote`` (jobs as the API
reports them), ``throttle`` (the AIMD limiter), ``jsonfast`` (strict JSON, fast).
"""

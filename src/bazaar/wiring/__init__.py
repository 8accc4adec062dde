"""How :func:`bazaar.bootstrap.build` wires each bounded context, one module per context.

Each builder takes the :class:`~bazaar.bootstrap.Container` being built and fills in its
context's services, reading the adapters the composition root already chose and the services
of contexts built before it. Nothing here picks an adapter or reads the environment: that
stays in :mod:`bazaar.bootstrap`, so there is still one place to look for what a process runs
against. The order the builders run in is the order in ``build``.
"""

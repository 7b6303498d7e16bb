"""TradingView UDF datafeed: the pure parts (symbols, bar tables, marks); the views are in ``api/udf.py``.

Protocol: TradingView's "UDF" page of the Charting Library docs and its stock adapter (``datafeeds/udf``:
``udf-compatible-datafeed-base.ts``, ``history-provider.ts``, ``symbols-storage.ts``), which the library ships
unchanged.
"""

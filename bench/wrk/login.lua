-- POST /user/login/ as the registered user BENCH_USERNAME, right password.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"username":"%s","password":"password123"}', os.getenv("BENCH_USERNAME"))

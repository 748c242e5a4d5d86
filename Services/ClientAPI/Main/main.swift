print("myelin-client-api")

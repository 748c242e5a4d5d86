print("myelin")

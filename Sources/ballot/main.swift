print("ballot")

"""MakeShop's legacy API (auth codes and the main administrator's login): client and answers."""
